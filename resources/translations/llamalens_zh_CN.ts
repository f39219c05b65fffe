<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AttentionMap</name>
    <message>
        <source>hover a cell to read its value; click to pick a query</source>
        <translation>鼠标移到格子上查看数值；点击选择查询</translation>
    </message>
    <message>
        <source>query</source>
        <translation>查询</translation>
    </message>
    <message>
        <source>key</source>
        <translation>键</translation>
    </message>
    <message>
        <source>masked (future key)</source>
        <translation>被掩码（未来的键）</translation>
    </message>
    <message>
        <source>(masked)</source>
        <translation>（被掩码）</translation>
    </message>
    <message>
        <source>query {row} &apos;{query}&apos; → key {col} &apos;{key}&apos; : {value}</source>
        <translation>查询 {row} &apos;{query}&apos; → 键 {col} &apos;{key}&apos;：{value}</translation>
    </message>
</context>
<context>
    <name>AttentionPanel</name>
    <message>
        <source>←/→ head · ↑/↓ layer · PgDn/PgUp next/previous head · Tab stage · Home/End</source>
        <translation>←/→ 注意力头 · ↑/↓ 层 · PgDn/PgUp 下一个/上一个头 · Tab 阶段 · Home/End</translation>
    </message>
    <message>
        <source>The attention map of the selected layer and head appears here: one row per query token, one column per key. Type a prompt and press Run (Ctrl+Enter).</source>
        <translation>所选层和注意力头的注意力图显示在这里：每个查询词元一行，每个键一列。输入提示词后按“运行”（Ctrl+Enter）。</translation>
    </message>
    <message>
        <source>linear</source>
        <translation>线性</translation>
    </message>
    <message>
        <source>log</source>
        <translation>对数</translation>
    </message>
    <message>
        <source>gamma</source>
        <translation>伽马</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Head</source>
        <translation>头</translation>
    </message>
    <message>
        <source>Stage</source>
        <translation>阶段</translation>
    </message>
    <message>
        <source>Colours</source>
        <translation>配色</translation>
    </message>
    <message>
        <source>Scale</source>
        <translation>刻度</translation>
    </message>
    <message>
        <source>0–1 range</source>
        <translation>0–1 范围</translation>
    </message>
    <message>
        <source>Colour probabilities on a fixed 0..1 range</source>
        <translation>按固定的 0..1 范围给概率着色</translation>
    </message>
    <message>
        <source>Hide first column</source>
        <translation>隐藏第一列</translation>
    </message>
    <message>
        <source>Draw the first key (the attention sink) as masked so the rest of the map gets the colour range</source>
        <translation>把第一个键（注意力汇聚点）画成被掩码，让图的其余部分用满整个色阶</translation>
    </message>
    <message>
        <source>layer {layer} · head {head} (KV {kv}) · {stage}</source>
        <translation>第 {layer} 层 · 第 {head} 个头（KV {kv}）· {stage}</translation>
    </message>
    <message>
        <source>Layer {layer} / {last} · Head {head} / {heads} · {stage}</source>
        <translation>第 {layer} 层 / {last} · 第 {head} 个头 / {heads} · {stage}</translation>
    </message>
    <message>
        <source>{title} · preparing…</source>
        <translation>{title} · 准备中…</translation>
    </message>
</context>
<context>
    <name>AttentionViews</name>
    <message>
        <source>Export Figure…</source>
        <translation>导出图像…</translation>
    </message>
    <message>
        <source>Layer {layer}: a line from each query (left) to each key (right), as opaque as its attention weight; one colour per head, shades of one hue share a KV head. Hover a token to see only its lines; click a head to hide it.</source>
        <translation>第 {layer} 层：从每个查询（左）到每个键（右）连一条线，注意力权重越大线越不透明；每个头一种颜色，同一色系的深浅表示共用一个 KV 头。鼠标移到词元上只看它的连线；点击一个头可以隐藏它。</translation>
    </message>
    <message>
        <source>Selected query</source>
        <translation>所选查询</translation>
    </message>
    <message>
        <source>Head average</source>
        <translation>头的平均</translation>
    </message>
    <message>
        <source>attention of token {pos}</source>
        <translation>词元 {pos} 的注意力</translation>
    </message>
    <message>
        <source>mean attention each token receives</source>
        <translation>每个词元平均得到的注意力</translation>
    </message>
    <message>
        <source>Layer {layer}, head {head}: {what}</source>
        <translation>第 {layer} 层，第 {head} 个头：{what}</translation>
    </message>
</context>
<context>
    <name>BeforeAfterPanel</name>
    <message>
        <source>Run a variant (What if) to see the next token before and after the change.</source>
        <translation>运行一个变体（假如）即可看到改动前后的下一个词元。</translation>
    </message>
    <message>
        <source>Before: {model}. After: variant · {label}. Δ log p = log p(after) − log p(before).</source>
        <translation>之前：{model}。之后：变体 · {label}。Δ log p = log p(之后) − log p(之前)。</translation>
    </message>
</context>
<context>
    <name>ComparePanel</name>
    <message>
        <source>two prompts</source>
        <translation>两个提示词</translation>
    </message>
    <message>
        <source>model vs variant</source>
        <translation>模型与变体</translation>
    </message>
    <message>
        <source>two heads</source>
        <translation>两个头</translation>
    </message>
    <message>
        <source>prompt B (A is the prompt above)</source>
        <translation>提示词 B（A 是上方的提示词）</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>比较</translation>
    </message>
    <message>
        <source>B: layer</source>
        <translation>B：层</translation>
    </message>
    <message>
        <source>head</source>
        <translation>头</translation>
    </message>
    <message>
        <source>Choose two runs and press Compare.</source>
        <translation>选择两次运行，然后点击“比较”。</translation>
    </message>
    <message>
        <source>model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>variant · {label}</source>
        <translation>变体 · {label}</translation>
    </message>
    <message>
        <source> on the first {n} positions</source>
        <translation>（前 {n} 个位置）</translation>
    </message>
    <message>
        <source>A: {a} · B: {b} · B − A{common}: largest |Δ| {largest}.</source>
        <translation>A：{a} · B：{b} · B − A{common}：最大 |Δ| {largest}。</translation>
    </message>
</context>
<context>
    <name>ExportActions</name>
    <message>
        <source>PNG image (*.png);;SVG vector (*.svg);;PDF document (*.pdf)</source>
        <translation>PNG 图像 (*.png);;SVG 矢量图 (*.svg);;PDF 文档 (*.pdf)</translation>
    </message>
    <message>
        <source>CSV table (*.csv);;NumPy array (*.npy)</source>
        <translation>CSV 表格 (*.csv);;NumPy 数组 (*.npy)</translation>
    </message>
    <message>
        <source>Nothing to export</source>
        <translation>没有可导出的内容</translation>
    </message>
    <message>
        <source>Run a prompt first.</source>
        <translation>请先运行一个提示词。</translation>
    </message>
    <message>
        <source>Export Figure…</source>
        <translation>导出图像…</translation>
    </message>
    <message>
        <source>Copy Figure</source>
        <translation>复制图像</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Export Map Data…</source>
        <translation>导出注意力图数据…</translation>
    </message>
    <message>
        <source>Export Layer Grid…</source>
        <translation>导出整层的头…</translation>
    </message>
    <message>
        <source>Export All Layers × Heads…</source>
        <translation>导出所有层 × 头…</translation>
    </message>
    <message>
        <source>Export Map Data (CSV / NPY)…</source>
        <translation>导出注意力图数据（CSV / NPY）…</translation>
    </message>
    <message>
        <source>Export figure</source>
        <translation>导出图像</translation>
    </message>
    <message>
        <source>PNG width</source>
        <translation>PNG 宽度</translation>
    </message>
    <message>
        <source>Width in pixels:</source>
        <translation>宽度（像素）：</translation>
    </message>
    <message>
        <source>Could not export</source>
        <translation>无法导出</translation>
    </message>
    <message>
        <source>Exported {path}</source>
        <translation>已导出 {path}</translation>
    </message>
    <message>
        <source>Figure copied to the clipboard</source>
        <translation>图像已复制到剪贴板</translation>
    </message>
    <message>
        <source>Export map data</source>
        <translation>导出注意力图数据</translation>
    </message>
</context>
<context>
    <name>HeadGrid</name>
    <message>
        <source>head {head} · KV head {kv}
click to inspect this head</source>
        <translation>第 {head} 个头 · KV 头 {kv}
点击查看这个头</translation>
    </message>
    <message>
        <source>layer {layer} · </source>
        <translation>第 {layer} 层 · </translation>
    </message>
    <message>
        <source>{n} heads</source>
        <translation>{n} 个头</translation>
    </message>
    <message>
        <source>{kv} KV heads · {tokens} tokens</source>
        <translation>{kv} 个 KV 头 · {tokens} 个词元</translation>
    </message>
</context>
<context>
    <name>HeadGridPanel</name>
    <message>
        <source>Every head of the selected layer appears here.</source>
        <translation>所选层的每个注意力头都显示在这里。</translation>
    </message>
    <message>
        <source>Layer {layer}: {heads} heads, {kv} KV heads (same colour = same keys and values)</source>
        <translation>第 {layer} 层：{heads} 个头，{kv} 个 KV 头（颜色相同 = 键和值相同）</translation>
    </message>
</context>
<context>
    <name>HeadStatsPanel</name>
    <message>
        <source>Entropy, sink, previous-token, self and induction scores of every head appear here after a run.</source>
        <translation>运行后，这里显示每个注意力头的熵、汇聚、前一词元、自身和归纳得分。</translation>
    </message>
    <message>
        <source>Induction is measured on a repeated random-token sequence. Double-click a row to show that head.</source>
        <translation>归纳（induction）得分是在一段重复的随机词元序列上测得的。双击一行即可显示那个头。</translation>
    </message>
</context>
<context>
    <name>LensPanel</name>
    <message>
        <source>The token each layer would predict, for the last positions, appears here after a run.</source>
        <translation>运行后，这里显示每一层对最后几个位置会预测的词元。</translation>
    </message>
    <message>
        <source>Final norm + output applied after each layer (last positions)</source>
        <translation>在每一层之后接上最后的归一化和输出投影（最后几个位置）</translation>
    </message>
</context>
<context>
    <name>LogitBars</name>
    <message>
        <source>probability</source>
        <translation>概率</translation>
    </message>
    <message>
        <source>Solid: sampled from (T, top-p, top-k) · dashed: the model at T = 1 · grey: cut.</source>
        <translation>实心：按 (T, top-p, top-k) 采样的分布 · 虚线：模型在 T = 1 时 · 灰色：被截掉。</translation>
    </message>
    <message>
        <source>Next-token probabilities.</source>
        <translation>下一个词元的概率。</translation>
    </message>
    <message>
        <source>{p}  ◀ chosen</source>
        <translation>{p}  ◀ 已选</translation>
    </message>
    <message>
        <source>cut ({p})</source>
        <translation>截掉（{p}）</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>append</source>
        <translation>追加</translation>
    </message>
    <message>
        <source>generate</source>
        <translation>生成</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>词元（token）</translation>
    </message>
    <message>
        <source>Heads</source>
        <translation>注意力头</translation>
    </message>
    <message>
        <source>Statistics</source>
        <translation>统计</translation>
    </message>
    <message>
        <source>Logit lens</source>
        <translation>Logit 透镜</translation>
    </message>
    <message>
        <source>RoPE</source>
        <translation>RoPE 旋转位置编码</translation>
    </message>
    <message>
        <source>Next token</source>
        <translation>下一个词元</translation>
    </message>
    <message>
        <source>Head view</source>
        <translation>头视图</translation>
    </message>
    <message>
        <source>Attention as text</source>
        <translation>文本上的注意力</translation>
    </message>
    <message>
        <source>No model</source>
        <translation>没有模型</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Loading the default model…</source>
        <translation>正在加载默认模型…</translation>
    </message>
    <message>
        <source>Loading {path}…</source>
        <translation>正在加载 {path}…</translation>
    </message>
    <message>
        <source>Running…</source>
        <translation>正在运行…</translation>
    </message>
    <message>
        <source>Generating {n} tokens…</source>
        <translation>正在生成 {n} 个词元…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source> Still using {name}.</source>
        <translation> 仍在使用 {name}。</translation>
    </message>
    <message>
        <source>Could not load the model</source>
        <translation>无法加载模型</translation>
    </message>
    <message>
        <source>Could not run</source>
        <translation>无法运行</translation>
    </message>
    <message>
        <source>Loading</source>
        <translation>加载</translation>
    </message>
    <message>
        <source>The run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>{what} was cancelled.</source>
        <translation>{what}已取消。</translation>
    </message>
    <message>
        <source>no model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <source>model: {name}</source>
        <translation>模型：{name}</translation>
    </message>
    <message>
        <source>session: {name} ({loaded})</source>
        <translation>会话：{name}（{loaded}）</translation>
    </message>
    <message>
        <source>{n} tokens</source>
        <translation>{n} 个词元</translation>
    </message>
    <message>
        <source>What if</source>
        <translation>假如</translation>
    </message>
    <message>
        <source>Before / after</source>
        <translation>之前 / 之后</translation>
    </message>
    <message>
        <source>RoPE what-if</source>
        <translation>RoPE 假如</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>比较</translation>
    </message>
    <message>
        <source>Head ranking</source>
        <translation>头排名</translation>
    </message>
    <message>
        <source>What if…</source>
        <translation>假如…</translation>
    </message>
</context>
<context>
    <name>Menus</name>
    <message>
        <source>run the prompt</source>
        <translation>运行提示词</translation>
    </message>
    <message>
        <source>previous / next head</source>
        <translation>上一个 / 下一个头</translation>
    </message>
    <message>
        <source>previous / next layer</source>
        <translation>上一层 / 下一层</translation>
    </message>
    <message>
        <source>next / previous stage (raw, masked, softmax)</source>
        <translation>下一个 / 上一个阶段（原始、掩码后、softmax 之后）</translation>
    </message>
    <message>
        <source>next / previous head, on into the next layer (presenter remotes)</source>
        <translation>下一个/上一个注意力头，并继续到下一层（演示遥控器）</translation>
    </message>
    <message>
        <source>first / last head</source>
        <translation>第一个 / 最后一个头</translation>
    </message>
    <message>
        <source>first / last layer</source>
        <translation>第一层 / 最后一层</translation>
    </message>
    <message>
        <source>click a map cell</source>
        <translation>点击注意力图中的格子</translation>
    </message>
    <message>
        <source>select query (row) and key (column) tokens</source>
        <translation>选择查询（行）和键（列）词元</translation>
    </message>
    <message>
        <source>open a checkpoint file / folder</source>
        <translation>打开检查点文件 / 文件夹</translation>
    </message>
    <message>
        <source>save / open a session (trace, view, analysis)</source>
        <translation>保存 / 打开会话（记录、视图、分析）</translation>
    </message>
    <message>
        <source>cancel loading or running</source>
        <translation>取消加载或运行</translation>
    </message>
    <message>
        <source>export the attention map as PNG, SVG or PDF</source>
        <translation>把注意力图导出为 PNG、SVG 或 PDF</translation>
    </message>
    <message>
        <source>copy the attention map figure</source>
        <translation>复制注意力图</translation>
    </message>
    <message>
        <source>export the map&apos;s numbers (CSV, NPY)</source>
        <translation>导出注意力图的数值（CSV、NPY）</translation>
    </message>
    <message>
        <source>export all heads of the layer / all layers × heads</source>
        <translation>导出这一层的所有头 / 所有层 × 头</translation>
    </message>
    <message>
        <source>presentation mode (fullscreen, large fonts)</source>
        <translation>演示模式（全屏、大字体）</translation>
    </message>
    <message>
        <source>walkthrough of one forward pass</source>
        <translation>逐步讲解一次前向计算</translation>
    </message>
    <message>
        <source>open the what-if panels</source>
        <translation>打开“假如”面板</translation>
    </message>
    <message>
        <source>walkthrough: next / previous step</source>
        <translation>逐步讲解：下一步 / 上一步</translation>
    </message>
    <message>
        <source>walkthrough: first / last step</source>
        <translation>逐步讲解：第一步 / 最后一步</translation>
    </message>
    <message>
        <source>this sheet</source>
        <translation>本快捷键表</translation>
    </message>
    <message>
        <source>quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>Automatic (fp32)</source>
        <translation>自动（fp32）</translation>
    </message>
    <message>
        <source>fp32: exact</source>
        <translation>fp32：精确</translation>
    </message>
    <message>
        <source>bf16: half the memory</source>
        <translation>bf16：内存减半</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open Checkpoint File…</source>
        <translation>打开检查点文件(&amp;O)…</translation>
    </message>
    <message>
        <source>Open Checkpoint &amp;Folder…</source>
        <translation>打开检查点文件夹(&amp;F)…</translation>
    </message>
    <message>
        <source>Open &amp;Default Model</source>
        <translation>打开默认模型(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Recent Models</source>
        <translation>最近的模型(&amp;R)</translation>
    </message>
    <message>
        <source>Open &amp;Session…</source>
        <translation>打开会话(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Save Session…</source>
        <translation>保存会话(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>运行(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Run Prompt</source>
        <translation>运行提示词(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>取消(&amp;C)</translation>
    </message>
    <message>
        <source>Capture &amp;Layers…</source>
        <translation>记录哪些层(&amp;L)…</translation>
    </message>
    <message>
        <source>&amp;Model</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Reset Layout</source>
        <translation>重置布局(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Keyboard Shortcuts</source>
        <translation>键盘快捷键(&amp;K)</translation>
    </message>
    <message>
        <source>&amp;Device</source>
        <translation>设备(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Precision</source>
        <translation>精度(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Presentation Mode</source>
        <translation>演示模式(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Next Head</source>
        <translation>下一个注意力头(&amp;N)</translation>
    </message>
    <message>
        <source>Pre&amp;vious Head</source>
        <translation>上一个注意力头(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Theme</source>
        <translation>主题(&amp;T)</translation>
    </message>
    <message>
        <source>UI &amp;Scale</source>
        <translation>界面缩放(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>No model</source>
        <translation>没有模型</translation>
    </message>
    <message>
        <source>Open a model first.</source>
        <translation>请先打开一个模型。</translation>
    </message>
    <message>
        <source>Capture layers</source>
        <translation>记录哪些层</translation>
    </message>
    <message>
        <source>Layers to capture (0..{last}), e.g. 0-3,10 or all:</source>
        <translation>要记录的层（0..{last}），例如 0-3,10，或 all 表示全部：</translation>
    </message>
    <message>
        <source>Open checkpoint</source>
        <translation>打开检查点</translation>
    </message>
    <message>
        <source>Checkpoints (*.gguf *.safetensors *.pth *.json);;All files (*)</source>
        <translation>检查点 (*.gguf *.safetensors *.pth *.json);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Open checkpoint folder</source>
        <translation>打开检查点文件夹</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
</context>
<context>
    <name>ModelWorker</name>
    <message>
        <source>no model is loaded yet: open a checkpoint first</source>
        <translation>尚未加载模型：请先打开一个检查点</translation>
    </message>
    <message>
        <source>{label}: layer {layer}/{n}</source>
        <translation>{label}：第 {layer}/{n} 层</translation>
    </message>
    <message>
        <source>Running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>Ranking heads: layer {done}/{n}</source>
        <translation>正在为头排名：第 {done}/{n} 层</translation>
    </message>
    <message>
        <source>Comparing: run {side}</source>
        <translation>正在比较：运行 {side}</translation>
    </message>
    <message>
        <source>run a prompt first: there is nothing to append to</source>
        <translation>请先运行一个提示词：没有可以追加的内容</translation>
    </message>
    <message>
        <source>run a prompt first: there is nothing to continue</source>
        <translation>请先运行一个提示词：没有可以继续的内容</translation>
    </message>
    <message>
        <source>Generated {i}/{n}</source>
        <translation>已生成 {i}/{n}</translation>
    </message>
    <message>
        <source>the loaded model is not the one that made this trace</source>
        <translation>已加载的模型不是生成这份记录的模型</translation>
    </message>
    <message>
        <source>Walkthrough</source>
        <translation>逐步讲解</translation>
    </message>
</context>
<context>
    <name>PromptPanel</name>
    <message>
        <source>Type a prompt, then press Ctrl+Enter</source>
        <translation>输入提示词，然后按 Ctrl+Enter</translation>
    </message>
    <message>
        <source>Chat template</source>
        <translation>对话模板</translation>
    </message>
    <message>
        <source>Wrap the prompt as a user message in the model&apos;s chat format</source>
        <translation>把提示词包装成模型对话格式中的一条用户消息</translation>
    </message>
    <message>
        <source>Special tokens as text</source>
        <translation>特殊词元按文本处理</translation>
    </message>
    <message>
        <source>Keep text like &lt;|im_start|&gt; as plain text instead of the special token</source>
        <translation>把 &lt;|im_start|&gt; 这样的文本当作普通文本，而不是特殊词元</translation>
    </message>
    <message>
        <source>Examples…</source>
        <translation>示例…</translation>
    </message>
    <message>
        <source>Run  (Ctrl+Enter)</source>
        <translation>运行（Ctrl+Enter）</translation>
    </message>
</context>
<context>
    <name>RankingPanel</name>
    <message>
        <source>log p(target) with this head ablated minus without: negative where the head helped predict the target</source>
        <translation>消融此头后的 log p(目标) 减去未消融时的值：为负表示该头有助于预测目标</translation>
    </message>
    <message>
        <source>KL divergence of the next-token distribution without ‖ with the ablation</source>
        <translation>下一个词元分布的 KL 散度：未消融 ‖ 消融后</translation>
    </message>
    <message>
        <source>What if ▸ Rank heads ablates each head in turn and measures the next token.</source>
        <translation>假如 ▸ 头排名会依次消融每个头，并测量下一个词元的变化。</translation>
    </message>
    <message>
        <source>Export map…</source>
        <translation>导出热图…</translation>
    </message>
    <message>
        <source> on the variant ({label})</source>
        <translation>（在变体 {label} 上）</translation>
    </message>
    <message>
        <source>Target {token}: log p = {logprob}{on}. Each head ablated alone ({mode}); most harmful first.</source>
        <translation>目标 {token}：log p = {logprob}{on}。每次单独消融一个头（{mode}）；影响最大的排在最前。</translation>
    </message>
</context>
<context>
    <name>RopePanel</name>
    <message>
        <source>RoPE turns each query and key, pair by pair, by an angle that grows with the position. Run a prompt, then click a cell of the attention map to choose the query (row) and the key (column) shown here.</source>
        <translation>RoPE 把每个查询和键逐对旋转一个随位置增长的角度。运行提示词后，点击注意力图的一个单元格，选择在这里显示的查询（行）和键（列）。</translation>
    </message>
    <message>
        <source>layer {layer} · head {head} · query {q} {q_text} · key {k} {k_text}</source>
        <translation>第 {layer} 层 · 第 {head} 个头 · 查询 {q} {q_text} · 键 {k} {k_text}</translation>
    </message>
</context>
<context>
    <name>RopePlane</name>
    <message>
        <source>pair i:</source>
        <translation>数对 i：</translation>
    </message>
    <message>
        <source>Σ —  (no key token chosen)</source>
        <translation>Σ —（尚未选择键词元）</translation>
    </message>
    <message>
        <source>Each pair as a complex number: dashed before RoPE, solid after; darker pairs turn faster.</source>
        <translation>每一对作为一个复数：虚线为 RoPE 之前，实线为之后；颜色越深的对转得越快。</translation>
    </message>
    <message>
        <source>all</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>Σ = {sum} = the score: Re(q̃ᵢ·k̃ᵢ*)/√hd per pair</source>
        <translation>Σ = {sum} = 得分：每对 Re(q̃ᵢ·k̃ᵢ*)/√hd 之和</translation>
    </message>
    <message>
        <source>{n} pairs (hd = {hd}), θᵢ from {first} to {last} rad/position; click a point or bar to pick one.</source>
        <translation>{n} 对（hd = {hd}），θᵢ 从 {first} 到 {last} 弧度/位置；点击一个点或柱选择一对。</translation>
    </message>
    <message>
        <source>pair i = {i}: θᵢ = {theta} rad/position</source>
        <translation>数对 i = {i}：θᵢ = {theta} 弧度/位置</translation>
    </message>
    <message>
        <source>query m = {m}: m·θᵢ = {angle} rad = {turns} turns</source>
        <translation>查询 m = {m}：m·θᵢ = {angle} 弧度 = {turns} 圈</translation>
    </message>
    <message>
        <source>key n = {n}: n·θᵢ = {angle} rad; (m−n)·θᵢ = {delta} rad</source>
        <translation>键 n = {n}：n·θᵢ = {angle} 弧度；(m−n)·θᵢ = {delta} 弧度</translation>
    </message>
    <message>
        <source>contribution {value}</source>
        <translation>贡献 {value}</translation>
    </message>
    <message>
        <source>Angles:</source>
        <translation>角度：</translation>
    </message>
</context>
<context>
    <name>RopeWhatIfPanel</name>
    <message>
        <source>random q = k</source>
        <translation>随机 q = k</translation>
    </message>
    <message>
        <source>this head&apos;s q, k</source>
        <translation>此头的 q、k</translation>
    </message>
    <message>
        <source>up to Δ = </source>
        <translation>最远 Δ = </translation>
    </message>
    <message>
        <source>Decay curve of</source>
        <translation>衰减曲线来源</translation>
    </message>
    <message>
        <source>Dashed: the model. Solid: variant · {label}.</source>
        <translation>虚线：模型。实线：变体 · {label}。</translation>
    </message>
    <message>
        <source>The model&apos;s RoPE (change it under What if ▸ Change RoPE, then run).</source>
        <translation>模型自身的 RoPE（可在 假如 ▸ 修改 RoPE 中更改，然后运行）。</translation>
    </message>
</context>
<context>
    <name>SamplingPanel</name>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation>Top-p 阈值</translation>
    </message>
    <message>
        <source>Top-k</source>
        <translation>Top-k 个数</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>History: the tokens appended and generated so far</source>
        <translation>历史：到目前为止追加和生成的词元</translation>
    </message>
    <message>
        <source>The most likely next tokens appear here after a run; temperature, top-p and top-k reshape them live.</source>
        <translation>运行后，这里显示最可能的下一个词元；温度、top-p 和 top-k 会实时改变它们。</translation>
    </message>
    <message>
        <source>Greedy</source>
        <translation>贪心</translation>
    </message>
    <message>
        <source>Sample</source>
        <translation>采样一个</translation>
    </message>
    <message>
        <source>Append</source>
        <translation>追加</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>生成</translation>
    </message>
    <message>
        <source>0 = no top-k limit</source>
        <translation>0 = 不限制 top-k</translation>
    </message>
    <message>
        <source>tokens shown</source>
        <translation>显示的词元数</translation>
    </message>
    <message>
        <source>seed of the next draw</source>
        <translation>下一次抽样的随机种子</translation>
    </message>
    <message>
        <source>tokens to generate</source>
        <translation>要生成的词元数</translation>
    </message>
    <message>
        <source>Choose a token with Greedy or Sample, then Append it.</source>
        <translation>用“贪心”或“采样一个”选出一个词元，再“追加”它。</translation>
    </message>
    <message>
        <source> (greedy)</source>
        <translation>（贪心）</translation>
    </message>
    <message>
        <source>greedy</source>
        <translation>贪心</translation>
    </message>
    <message>
        <source>sampled T={t} seed {seed}</source>
        <translation>采样 T={t} 种子 {seed}</translation>
    </message>
    <message>
        <source>Chosen: {text} (id {id}, {how}{p}). Append adds it.</source>
        <translation>已选：{text}（id {id}，{how}{p}）。点“追加”加入。</translation>
    </message>
    <message>
        <source>Choose a token first (Greedy or Sample).</source>
        <translation>请先选出一个词元（贪心或采样）。</translation>
    </message>
</context>
<context>
    <name>Session</name>
    <message>
        <source>LlamaLens sessions (*.llamalens);;All files (*)</source>
        <translation>LlamaLens 会话 (*.llamalens);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Could not save the session</source>
        <translation>无法保存会话</translation>
    </message>
    <message>
        <source>Saved session {name}</source>
        <translation>已保存会话 {name}</translation>
    </message>
    <message>
        <source>Could not open the session</source>
        <translation>无法打开会话</translation>
    </message>
    <message>
        <source>Save session</source>
        <translation>保存会话</translation>
    </message>
    <message>
        <source>Open session</source>
        <translation>打开会话</translation>
    </message>
</context>
<context>
    <name>Stages</name>
    <message>
        <source>raw QKᵀ/√d</source>
        <translation>原始 QKᵀ/√d</translation>
    </message>
    <message>
        <source>masked</source>
        <translation>掩码后</translation>
    </message>
    <message>
        <source>softmax</source>
        <translation>softmax 之后</translation>
    </message>
</context>
<context>
    <name>TokenStrip</name>
    <message>
        <source>position {i}
token id {id}
text {text}
bytes {bytes}</source>
        <translation>位置 {i}
词元 id {id}
文本 {text}
字节 {bytes}</translation>
    </message>
    <message>
        <source>position {i}
special token id {id}
text {text}
bytes {bytes}</source>
        <translation>位置 {i}
特殊词元 id {id}
文本 {text}
字节 {bytes}</translation>
    </message>
    <message>
        <source>byte piece {k} of the {n} that make {text}</source>
        <translation>组成 {text} 的 {n} 个字节片段中的第 {k} 个</translation>
    </message>
</context>
<context>
    <name>TokensPanel</name>
    <message>
        <source>The prompt&apos;s tokens appear here, one chip each, with their ids.</source>
        <translation>提示词的词元显示在这里，每个一个标签，并带有其编号。</translation>
    </message>
    <message>
        <source> · {n} byte(s) without a token were dropped</source>
        <translation> · 有 {n} 个字节在词表中没有对应词元，已丢弃</translation>
    </message>
    <message>
        <source>{n} tokens (click one to select it as the query)</source>
        <translation>{n} 个词元（点击一个把它选为查询）</translation>
    </message>
</context>
<context>
    <name>Walkthrough</name>
    <message>
        <source>Walkthrough</source>
        <translation>逐步讲解</translation>
    </message>
    <message>
        <source>Walk through one forward pass, step by step (F5)</source>
        <translation>逐步讲解一次前向计算（F5）</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>词元（token）</translation>
    </message>
    <message>
        <source>text → tokens · the tokenizer splits the prompt into pieces of its vocabulary</source>
        <translation>文本 → 词元 · 分词器按词表把提示词切成片段</translation>
    </message>
    <message>
        <source>The tokenizer cuts the prompt into {T} tokens, pieces of text from a vocabulary of {V} entries. A leading space belongs to the token (shown as ·). From here on the model computes everything once per token.</source>
        <translation>分词器把提示词切成 {T} 个词元，每个词元都是词表（共 {V} 项）中的一段文本。词前的空格属于词元本身（显示为 ·）。从这里开始，模型的每一步计算都对每个词元各做一次。</translation>
    </message>
    <message>
        <source># split the prompt into tokens</source>
        <translation># 把提示词切分成词元</translation>
    </message>
    <message>
        <source>tokenize</source>
        <translation>分词</translation>
    </message>
    <message>
        <source>Token ids</source>
        <translation>词元 id</translation>
    </message>
    <message>
        <source>token → id · each token becomes its number in the vocabulary</source>
        <translation>词元 → id · 每个词元换成它在词表中的编号</translation>
    </message>
    <message>
        <source>The model never sees text, only these {T} integers. Each id is the token&apos;s index in the vocabulary; the selected token {token} at position {pos} has id {id}.</source>
        <translation>模型看不到文字，只看到这 {T} 个整数。每个 id 是词元在词表中的编号；位置 {pos} 上所选的词元 {token} 的 id 是 {id}。</translation>
    </message>
    <message>
        <source># the ids the model reads</source>
        <translation># 模型读入的 id</translation>
    </message>
    <message>
        <source>ids</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>Embedding rows (tok_embeddings)</source>
        <translation>词嵌入（tok_embeddings）</translation>
    </message>
    <message>
        <source>x = E[id] · row id of the embedding matrix E, [{V}, {d}]</source>
        <translation>x = E[id] · 取嵌入矩阵 E（[{V}, {d}]）的第 id 行</translation>
    </message>
    <message>
        <source>Each id picks one row of the embedding matrix: {d} numbers learned in training. Stacked, the {T} rows form a [{T}, {d}] matrix, the residual stream that every layer reads and adds to. The outlined row is the selected token.</source>
        <translation>每个 id 从嵌入矩阵中取出一行：{d} 个训练得到的数。{T} 行叠在一起构成 [{T}, {d}] 的矩阵，也就是残差流，之后每一层都读取它并在上面累加。框出的那一行是所选的词元。</translation>
    </message>
    <message>
        <source># look up one row of tok_embeddings per token</source>
        <translation># 每个词元在 tok_embeddings 中查出一行</translation>
    </message>
    <message>
        <source>row lookup</source>
        <translation>查表取行</translation>
    </message>
    <message>
        <source>RMSNorm before attention (attention_norm)</source>
        <translation>注意力之前的 RMSNorm（attention_norm）</translation>
    </message>
    <message>
        <source>y = x / RMS(x) ⊙ g,  RMS(x) = √(mean(x²) + ε) · rescale each token&apos;s vector</source>
        <translation>y = x / RMS(x) ⊙ g，RMS(x) = √(mean(x²) + ε) · 把每个词元的向量重新缩放</translation>
    </message>
    <message>
        <source>RMSNorm divides the vector of {token} by its root mean square, here {rms}, so that every token enters attention at the same scale, then multiplies each dimension by a learned weight g. Unlike LayerNorm it does not subtract the mean.</source>
        <translation>RMSNorm 把 {token} 的向量除以它的均方根（这里是 {rms}），让每个词元以相同的尺度进入注意力，再把每一维乘以训练得到的权重 g。与 LayerNorm 不同，它不减去均值。</translation>
    </message>
    <message>
        <source># RMSNorm: divide by the root mean square, scale by g</source>
        <translation># RMSNorm：除以均方根，再乘以权重 g</translation>
    </message>
    <message>
        <source>÷ RMS, × g</source>
        <translation>÷ 均方根，× g</translation>
    </message>
    <message>
        <source>Query: wq of head {head}</source>
        <translation>查询（Query）：第 {head} 个头的 wq</translation>
    </message>
    <message>
        <source>Q = y · W_qᵀ · W_q of head {head} is [{hd}, {d}]</source>
        <translation>Q = y · W_qᵀ · 第 {head} 个头的 W_q 是 [{hd}, {d}]</translation>
    </message>
    <message>
        <source>The query weights of all {n_heads} heads are one matrix wq of shape [{n_heads}·{hd}, {d}]; head {head} uses rows {q0} to {q1}. Multiplied with the normalised vectors they give each token a query of {hd} numbers: what this token is looking for.</source>
        <translation>全部 {n_heads} 个头的查询权重存成一个矩阵 wq，形状为 [{n_heads}·{hd}, {d}]；第 {head} 个头用其中第 {q0} 到 {q1} 行。它与归一化后的向量相乘，给每个词元一个 {hd} 维的查询向量：表示这个词元在“寻找”什么。</translation>
    </message>
    <message>
        <source># the query of one head for every token</source>
        <translation># 一个头为每个词元算出的查询</translation>
    </message>
    <message>
        <source>wq · query</source>
        <translation>wq · 查询</translation>
    </message>
    <message>
        <source>Key: wk and the shared KV head (GQA)</source>
        <translation>键（Key）：wk 与共享的 KV 头（GQA）</translation>
    </message>
    <message>
        <source>K = y · W_kᵀ · KV head {kv} serves heads {group}</source>
        <translation>K = y · W_kᵀ · KV 头 {kv} 供第 {group} 个头使用</translation>
    </message>
    <message>
        <source>Keys say what each token offers to the queries. With grouped-query attention this model has {n_kv} key/value heads for {n_heads} query heads: head {head} reads KV head {kv}, which serves the query heads {group}. That saves memory in the KV cache and computation.</source>
        <translation>键表示每个词元能向查询“提供”什么。采用分组查询注意力（GQA），这个模型的 {n_heads} 个查询头只对应 {n_kv} 个键/值头：第 {head} 个头读取 KV 头 {kv}，它供第 {group} 个查询头共用。这样既节省 KV 缓存的内存，也减少计算量。</translation>
    </message>
    <message>
        <source># keys: one KV head serves a group of query heads</source>
        <translation># 键：一个 KV 头供一组查询头共用</translation>
    </message>
    <message>
        <source>wk · key</source>
        <translation>wk · 键</translation>
    </message>
    <message>
        <source>Value: wv</source>
        <translation>值（Value）：wv</translation>
    </message>
    <message>
        <source>V = y · W_vᵀ · what each token passes on</source>
        <translation>V = y · W_vᵀ · 每个词元要传递的内容</translation>
    </message>
    <message>
        <source>Values carry the content a token hands to the tokens that attend to it. Like the keys they come from KV head {kv}; unlike queries and keys they are not rotated by position.</source>
        <translation>值承载着一个词元要交给关注它的词元的内容。和键一样，值来自 KV 头 {kv}；与查询和键不同，值不按位置旋转。</translation>
    </message>
    <message>
        <source># values come from the same KV head</source>
        <translation># 值来自同一个 KV 头</translation>
    </message>
    <message>
        <source>wv · value</source>
        <translation>wv · 值</translation>
    </message>
    <message>
        <source>RoPE: rotate the query and key pairs</source>
        <translation>RoPE：旋转查询和键的数对</translation>
    </message>
    <message>
        <source>q′ᵢ = qᵢ · e^(j·m·θᵢ),  θᵢ = base^(−2i/{hd}) · each pair of numbers is a complex number</source>
        <translation>q′ᵢ = qᵢ · e^(j·m·θᵢ)，θᵢ = base^(−2i/{hd}) · 每两个数看作一个复数</translation>
    </message>
    <message>
        <source>RoPE reads the {hd} numbers as {half} pairs, each a complex number, and turns pair i by the angle m·θᵢ, where m = {pos} is the position of {token}. Fast pairs encode nearby order and slow ones distant order, so a query–key score depends on how far apart the two tokens are. The RoPE panel draws the pairs in the complex plane.</source>
        <translation>RoPE 把 {hd} 个数看成 {half} 对，每对是一个复数，并把第 i 对旋转 m·θᵢ 的角度，其中 m = {pos} 是 {token} 的位置。转得快的数对编码相邻的先后，转得慢的编码远距离的先后，因此查询与键的得分取决于两个词元相隔多远。RoPE 面板在复平面上画出这些数对。</translation>
    </message>
    <message>
        <source># rotate each pair by position × frequency</source>
        <translation># 每个数对按“位置 × 频率”旋转</translation>
    </message>
    <message>
        <source>RoPE rotation</source>
        <translation>RoPE 旋转</translation>
    </message>
    <message>
        <source>Scores: QKᵀ/√d</source>
        <translation>注意力得分：QKᵀ/√d</translation>
    </message>
    <message>
        <source>S = Q · Kᵀ / √{hd} · every query against every key</source>
        <translation>S = Q · Kᵀ / √{hd} · 每个查询与每个键相比较</translation>
    </message>
    <message>
        <source>Each query meets each key in a dot product, divided by √{hd} to keep the numbers in a range softmax handles well. Row {pos} is the query of {token}; its highest raw score is for {top_key}. The future keys still have scores: the mask comes next.</source>
        <translation>每个查询与每个键做点积，再除以 √{hd}，使数值落在 softmax 容易处理的范围内。第 {pos} 行是 {token} 的查询，它的原始得分最高的是 {top_key}。此时未来的键仍有得分，掩码在下一步才加上。</translation>
    </message>
    <message>
        <source># dot product of every query with every key</source>
        <translation># 每个查询与每个键的点积</translation>
    </message>
    <message>
        <source>QKᵀ/√d scores</source>
        <translation>QKᵀ/√d 得分</translation>
    </message>
    <message>
        <source>Causal mask</source>
        <translation>因果掩码</translation>
    </message>
    <message>
        <source>S[i, j] = −∞ for j &gt; i · no token may look ahead</source>
        <translation>j &gt; i 时 S[i, j] = −∞ · 任何词元都不能看后面</translation>
    </message>
    <message>
        <source>A language model predicts the next token, so no token may see the tokens after it. The upper triangle becomes −∞ (drawn grey), which softmax turns into exactly 0. Token {pos} sees the {visible} tokens up to and including itself.</source>
        <translation>语言模型要预测下一个词元，所以任何词元都不能看到它后面的词元。上三角被设为 −∞（画成灰色），softmax 会把它变成严格的 0。第 {pos} 个词元能看到包括它自己在内的前 {visible} 个词元。</translation>
    </message>
    <message>
        <source># hide the future: −inf above the diagonal</source>
        <translation># 遮住未来：对角线以上设为 −inf</translation>
    </message>
    <message>
        <source>causal mask</source>
        <translation>因果掩码</translation>
    </message>
    <message>
        <source>Softmax</source>
        <translation>Softmax 概率</translation>
    </message>
    <message>
        <source>P[i, :] = softmax(S[i, :]) · each row becomes probabilities</source>
        <translation>P[i, :] = softmax(S[i, :]) · 每一行变成概率</translation>
    </message>
    <message>
        <source>Softmax exponentiates each row and divides by its sum, so each row is a probability distribution over the keys. The query of {token} gives {top_prob} of its attention to {top_key}. Many heads send much of their attention to the first token, the attention sink.</source>
        <translation>softmax 对每一行取指数再除以行和，于是每一行都是键上的概率分布。{token} 的查询把 {top_prob} 的注意力给了 {top_key}。许多头把大量注意力放在第一个词元上，这就是“注意力汇聚”（attention sink）。</translation>
    </message>
    <message>
        <source># each row sums to 1</source>
        <translation># 每一行的和为 1</translation>
    </message>
    <message>
        <source>softmax weights</source>
        <translation>softmax 权重</translation>
    </message>
    <message>
        <source>Weighted sum of the values: ·V</source>
        <translation>对值加权求和：·V</translation>
    </message>
    <message>
        <source>o = P[{pos}, :] · V · the values mixed by attention</source>
        <translation>o = P[{pos}, :] · V · 按注意力混合各个值</translation>
    </message>
    <message>
        <source>The output of head {head} for {token} is the average of the value vectors, weighted by the attention row: {hd} numbers. The more attention a token received, the more of its value is in the mix.</source>
        <translation>第 {head} 个头对 {token} 的输出，是各个值向量按这一行注意力加权的平均：{hd} 个数。一个词元得到的注意力越多，它的值在其中占的比重就越大。</translation>
    </message>
    <message>
        <source># attention-weighted average of the values</source>
        <translation># 按注意力对值加权平均</translation>
    </message>
    <message>
        <source>weighted values</source>
        <translation>加权求和</translation>
    </message>
    <message>
        <source>All heads concatenated</source>
        <translation>拼接所有的头</translation>
    </message>
    <message>
        <source>[o₀ ‖ o₁ ‖ … ‖ o_{last}] · {n_heads} heads × {hd} = {width} numbers</source>
        <translation>[o₀ ‖ o₁ ‖ … ‖ o_{last}] · {n_heads} 个头 × {hd} = {width} 个数</translation>
    </message>
    <message>
        <source>Every head computes its output the same way, in parallel. The outputs are put side by side; the part of head {head} is outlined. The output projection wo reads this vector.</source>
        <translation>每个头都以同样的方式并行地算出自己的输出，再把这些输出首尾相接；框出的是第 {head} 个头的那一段。输出投影 wo 读取的就是这个向量。</translation>
    </message>
    <message>
        <source># the heads side by side</source>
        <translation># 把各个头并排拼接</translation>
    </message>
    <message>
        <source>concatenate</source>
        <translation>拼接</translation>
    </message>
    <message>
        <source>Output projection: wo</source>
        <translation>输出投影：wo</translation>
    </message>
    <message>
        <source>Δ = o · W_oᵀ · W_o is [{d}, {width}]</source>
        <translation>Δ = o · W_oᵀ · W_o 是 [{d}, {width}]</translation>
    </message>
    <message>
        <source>wo mixes the heads back into the model width of {d} numbers. The result is what attention adds to the residual stream of {token}: a change, not a replacement.</source>
        <translation>wo 把各个头的输出混合回模型宽度，即 {d} 个数。结果就是注意力要加到 {token} 的残差流上的量：是一个增量，而不是替换。</translation>
    </message>
    <message>
        <source># mix the heads back to the model width</source>
        <translation># 把各个头混合回模型宽度</translation>
    </message>
    <message>
        <source>wo projection</source>
        <translation>wo 投影</translation>
    </message>
    <message>
        <source>Residual add after attention</source>
        <translation>注意力之后的残差连接</translation>
    </message>
    <message>
        <source>h = x + Δ · the input plus what attention found</source>
        <translation>h = x + Δ · 输入加上注意力得到的结果</translation>
    </message>
    <message>
        <source>The block adds attention&apos;s output to its own input, before the norm. Through this skip connection information can pass all {n_layers} layers unchanged when a layer has nothing to add, and deep models become trainable.</source>
        <translation>这一层把注意力的输出加到它自己的输入（归一化之前的）上。有了这条跳跃连接，当某一层没有什么可加时，信息可以原样穿过全部 {n_layers} 层，深层模型也因此能够训练。</translation>
    </message>
    <message>
        <source># residual connection</source>
        <translation># 残差连接</translation>
    </message>
    <message>
        <source>add</source>
        <translation>相加</translation>
    </message>
    <message>
        <source>RMSNorm before the feed-forward network (ffn_norm)</source>
        <translation>前馈网络之前的 RMSNorm（ffn_norm）</translation>
    </message>
    <message>
        <source>ĥ = h / RMS(h) ⊙ g · the same norm with its own weights</source>
        <translation>ĥ = h / RMS(h) ⊙ g · 同样的归一化，用它自己的权重</translation>
    </message>
    <message>
        <source>Before the feed-forward network the residual stream is normalised again, with weights of its own; here RMS = {rms}. The feed-forward network then works on each token alone, without looking at the others.</source>
        <translation>进入前馈网络之前，残差流再做一次归一化，使用它自己的权重；这里 RMS = {rms}。随后的前馈网络对每个词元单独计算，不看其他词元。</translation>
    </message>
    <message>
        <source># normalise again before the feed-forward network</source>
        <translation># 进入前馈网络前再归一化一次</translation>
    </message>
    <message>
        <source>SwiGLU: gate projection w1</source>
        <translation>SwiGLU：门控投影 w1</translation>
    </message>
    <message>
        <source>a = ĥ · W₁ᵀ · {d} → {F} numbers</source>
        <translation>a = ĥ · W₁ᵀ · {d} → {F} 个数</translation>
    </message>
    <message>
        <source>The feed-forward network first widens each token&apos;s vector from {d} to {F} numbers, twice, with two different matrices. w1 gives the gate: after SiLU it decides how much of each hidden unit passes.</source>
        <translation>前馈网络先用两个不同的矩阵，把每个词元的向量从 {d} 维扩展到 {F} 维，各做一次。w1 给出门控：经过 SiLU 之后，它决定每个隐藏单元能通过多少。</translation>
    </message>
    <message>
        <source># the gate: widen with w1</source>
        <translation># 门控：用 w1 扩展维度</translation>
    </message>
    <message>
        <source>w1 gate</source>
        <translation>w1 门控</translation>
    </message>
    <message>
        <source>SwiGLU: up projection w3</source>
        <translation>SwiGLU：上投影 w3</translation>
    </message>
    <message>
        <source>b = ĥ · W₃ᵀ · the values the gate will scale</source>
        <translation>b = ĥ · W₃ᵀ · 将被门控缩放的值</translation>
    </message>
    <message>
        <source>w3 computes a second vector of {F} numbers from the same input. It carries the content; the gate from w1 scales it unit by unit.</source>
        <translation>w3 从同一个输入再算出一个 {F} 维的向量。它承载内容，由 w1 给出的门控逐个单元地对它缩放。</translation>
    </message>
    <message>
        <source># the content: widen with w3</source>
        <translation># 内容：用 w3 扩展维度</translation>
    </message>
    <message>
        <source>w3 up</source>
        <translation>w3 上投影</translation>
    </message>
    <message>
        <source>SiLU</source>
        <translation>SiLU 激活函数</translation>
    </message>
    <message>
        <source>SiLU(a) = a · σ(a) · negative values are pushed towards 0</source>
        <translation>SiLU(a) = a · σ(a) · 负值被压向 0</translation>
    </message>
    <message>
        <source>SiLU, also called Swish, lets positive values through almost unchanged and squashes negative ones smoothly towards zero. For this token {active} of the {F} gate values are positive.</source>
        <translation>SiLU（也叫 Swish）让正值几乎原样通过，把负值平滑地压向 0。对这个词元，{F} 个门控值中有 {active} 个为正。</translation>
    </message>
    <message>
        <source># SiLU (Swish) activation of the gate</source>
        <translation># 对门控做 SiLU（Swish）激活</translation>
    </message>
    <message>
        <source>SiLU activation</source>
        <translation>SiLU 激活</translation>
    </message>
    <message>
        <source>Gate times up</source>
        <translation>门控乘以上投影</translation>
    </message>
    <message>
        <source>g = SiLU(a) ⊙ b · element by element</source>
        <translation>g = SiLU(a) ⊙ b · 逐元素相乘</translation>
    </message>
    <message>
        <source>The gated linear unit multiplies the two vectors element by element: a hidden unit contributes only where its gate is open. Hence the name SwiGLU: Swish (SiLU) with a gated linear unit.</source>
        <translation>门控线性单元把两个向量逐元素相乘：只有在门打开的地方，对应的隐藏单元才起作用。这就是 SwiGLU 名字的由来：Swish（即 SiLU）加上门控线性单元（GLU）。</translation>
    </message>
    <message>
        <source># the gate opens and closes each hidden unit</source>
        <translation># 门控决定每个隐藏单元的开与关</translation>
    </message>
    <message>
        <source>gate ⊙ up</source>
        <translation>门控 ⊙ 上投影</translation>
    </message>
    <message>
        <source>SwiGLU: down projection w2</source>
        <translation>SwiGLU：下投影 w2</translation>
    </message>
    <message>
        <source>f = g · W₂ᵀ · {F} → {d} numbers</source>
        <translation>f = g · W₂ᵀ · {F} → {d} 个数</translation>
    </message>
    <message>
        <source>w2 brings the {F} hidden units back to the model width of {d}. Like attention&apos;s output, this is a change to be added to the residual stream.</source>
        <translation>w2 把 {F} 个隐藏单元投影回模型宽度 {d}。和注意力的输出一样，这是一个要加到残差流上的增量。</translation>
    </message>
    <message>
        <source># back to the model width with w2</source>
        <translation># 用 w2 投影回模型宽度</translation>
    </message>
    <message>
        <source>w2 down</source>
        <translation>w2 下投影</translation>
    </message>
    <message>
        <source>Residual add after the feed-forward network</source>
        <translation>前馈网络之后的残差连接</translation>
    </message>
    <message>
        <source>out = h + f · the output of layer {layer}</source>
        <translation>out = h + f · 第 {layer} 层的输出</translation>
    </message>
    <message>
        <source>Adding the feed-forward output completes layer {layer}. Its output is the input of the next layer, which repeats the same computation with its own weights.</source>
        <translation>加上前馈网络的输出，第 {layer} 层就完成了。它的输出是下一层的输入，下一层用自己的权重重复同样的计算。</translation>
    </message>
    <message>
        <source># residual connection: the layer&apos;s output</source>
        <translation># 残差连接：这一层的输出</translation>
    </message>
    <message>
        <source>Through all {n_layers} layers</source>
        <translation>穿过全部 {n_layers} 层</translation>
    </message>
    <message>
        <source>x_(l+1) = layer_l(x_l) · {n_layers} layers, one after another</source>
        <translation>x_(l+1) = layer_l(x_l) · {n_layers} 层依次相连</translation>
    </message>
    <message>
        <source>Every layer reads the residual stream and adds its attention and feed-forward results to it. The rows show the stream of {token} after each layer; a few dimensions grow very large (massive activations). Walk another layer with the buttons, or go on to the output with →.</source>
        <translation>每一层都读取残差流，并把自己的注意力和前馈网络的结果加上去。每一行是 {token} 在各层之后的残差流；可以看到少数几个维度变得非常大（超大激活）。用按钮走进另一层，或按 → 继续走到输出。</translation>
    </message>
    <message>
        <source># every layer reads the previous layer&apos;s output</source>
        <translation># 每一层读取上一层的输出</translation>
    </message>
    <message>
        <source>next layer</source>
        <translation>下一层</translation>
    </message>
    <message>
        <source>Final RMSNorm (norm)</source>
        <translation>最后的 RMSNorm（norm）</translation>
    </message>
    <message>
        <source>z = x_L / RMS(x_L) ⊙ g · RMS = {rms}</source>
        <translation>z = x_L / RMS(x_L) ⊙ g · 均方根 = {rms}</translation>
    </message>
    <message>
        <source>After the last layer the residual stream is normalised one more time. Only the last position is needed to predict the next token; the walkthrough follows position {pos}.</source>
        <translation>最后一层之后，残差流再归一化一次。预测下一个词元只需要最后一个位置；本讲解跟随的是位置 {pos}。</translation>
    </message>
    <message>
        <source># the final norm</source>
        <translation># 最后的归一化</translation>
    </message>
    <message>
        <source>Output projection to logits (output)</source>
        <translation>输出投影得到 logits（output）</translation>
    </message>
    <message>
        <source>logits = z · W_outᵀ · one score per vocabulary entry ({V})</source>
        <translation>logits = z · W_outᵀ · 词表中每一项一个得分（共 {V} 项）</translation>
    </message>
    <message>
        <source>The output matrix turns the {d} numbers into {V} logits, one per token of the vocabulary. The highest is {top} ({top_logit}).</source>
        <translation>输出矩阵把这 {d} 个数变成 {V} 个 logits，词表中每个词元一个。最高的是 {top}（{top_logit}）。</translation>
    </message>
    <message>
        <source># one score per token of the vocabulary</source>
        <translation># 词表中每个词元一个得分</translation>
    </message>
    <message>
        <source>vocabulary scores</source>
        <translation>词表得分</translation>
    </message>
    <message>
        <source>Temperature and top-p</source>
        <translation>温度与 top-p</translation>
    </message>
    <message>
        <source>p = softmax(logits / T), then the top-p nucleus · T = {temp}, top-p = {top_p}</source>
        <translation>p = softmax(logits / T)，再做 top-p 截断（核采样）· T = {temp}，top-p = {top_p}</translation>
    </message>
    <message>
        <source>Dividing the logits by the temperature sharpens (T &lt; 1) or flattens (T &gt; 1) the distribution; top-p keeps the most likely tokens until their probability reaches p and renormalises them. {kept} tokens remain; the cut ones are grey. The settings are those of the Next token panel.</source>
        <translation>logits 除以温度后，分布会变尖（T &lt; 1）或变平（T &gt; 1）；top-p 按概率从高到低保留词元，直到累计概率达到 p，再重新归一化。还剩 {kept} 个词元，被截掉的画成灰色。这些设置来自“下一个词元”面板。</translation>
    </message>
    <message>
        <source># temperature, then top-p (Meta&apos;s sample_top_p)</source>
        <translation># 先除以温度，再做 top-p（Meta 的 sample_top_p）</translation>
    </message>
    <message>
        <source>temperature, top-p</source>
        <translation>温度、top-p</translation>
    </message>
    <message>
        <source>The next token</source>
        <translation>下一个词元</translation>
    </message>
    <message>
        <source>next_token = {rule} · the next token is {next}</source>
        <translation>next_token = {rule} · 下一个词元是 {next}</translation>
    </message>
    <message>
        <source>The model chooses {next} (probability {prob}). Appending it and running again is how text is generated, one token per forward pass; the KV cache keeps the keys and values, so the earlier tokens are not computed again.</source>
        <translation>模型选择了 {next}（概率 {prob}）。把它接到末尾再运行一次，文本就是这样每次前向计算生成一个词元；KV 缓存保存了键和值，之前的词元不必重新计算。</translation>
    </message>
    <message>
        <source># choose the next token and decode it</source>
        <translation># 选出下一个词元并解码</translation>
    </message>
    <message>
        <source>choose</source>
        <translation>选择</translation>
    </message>
    <message>
        <source>Tokens → ids</source>
        <translation>词元 → id</translation>
    </message>
    <message>
        <source>Embedding</source>
        <translation>词嵌入</translation>
    </message>
    <message>
        <source>RMSNorm</source>
        <translation>RMS 归一化</translation>
    </message>
    <message>
        <source>Attention (GQA)</source>
        <translation>注意力（GQA）</translation>
    </message>
    <message>
        <source>⊕ Residual</source>
        <translation>⊕ 残差</translation>
    </message>
    <message>
        <source>SwiGLU feed-forward</source>
        <translation>SwiGLU 前馈网络</translation>
    </message>
    <message>
        <source>↻ Next layer</source>
        <translation>↻ 下一层</translation>
    </message>
    <message>
        <source>Final RMSNorm</source>
        <translation>最后的 RMS 归一化</translation>
    </message>
    <message>
        <source>Output → logits</source>
        <translation>输出 → logits</translation>
    </message>
    <message>
        <source>Sampling</source>
        <translation>采样</translation>
    </message>
    <message>
        <source>Layer {layer} of {n_layers}</source>
        <translation>第 {layer} 层（共 {n_layers} 层）</translation>
    </message>
    <message>
        <source>Step {index} of {count}</source>
        <translation>第 {index} 步（共 {count} 步）</translation>
    </message>
    <message>
        <source>input</source>
        <translation>输入</translation>
    </message>
    <message>
        <source>÷ RMS = {rms}</source>
        <translation>÷ 均方根 = {rms}</translation>
    </message>
    <message>
        <source>weight g</source>
        <translation>权重 g</translation>
    </message>
    <message>
        <source>result</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>before RoPE</source>
        <translation>旋转前</translation>
    </message>
    <message>
        <source>after RoPE</source>
        <translation>旋转后</translation>
    </message>
    <message>
        <source>angle m·θᵢ of the pair</source>
        <translation>该数对的旋转角 m·θᵢ</translation>
    </message>
    <message>
        <source>Exported {path}</source>
        <translation>已导出 {path}</translation>
    </message>
    <message>
        <source>To the output</source>
        <translation>跳到输出</translation>
    </message>
    <message>
        <source>RoPE panel</source>
        <translation>RoPE 面板</translation>
    </message>
    <message>
        <source>after layer {layer}</source>
        <translation>第 {layer} 层之后</translation>
    </message>
    <message>
        <source>the prompt, token by token</source>
        <translation>逐个词元看提示词</translation>
    </message>
    <message>
        <source>what the model reads</source>
        <translation>模型读入的内容</translation>
    </message>
    <message>
        <source>one row per token</source>
        <translation>每个词元一行</translation>
    </message>
    <message>
        <source>the residual stream of {token}</source>
        <translation>{token} 的残差流</translation>
    </message>
    <message>
        <source>normalised, row by row</source>
        <translation>逐行归一化</translation>
    </message>
    <message>
        <source>queries of head {head}, one row per token</source>
        <translation>第 {head} 个头的查询，每个词元一行</translation>
    </message>
    <message>
        <source>keys of KV head {kv}, one row per token</source>
        <translation>KV 头 {kv} 的键，每个词元一行</translation>
    </message>
    <message>
        <source>values of KV head {kv}, one row per token</source>
        <translation>KV 头 {kv} 的值，每个词元一行</translation>
    </message>
    <message>
        <source>the query of {token} before and after rotation</source>
        <translation>{token} 的查询在旋转前后</translation>
    </message>
    <message>
        <source>the key of {token} before and after rotation</source>
        <translation>{token} 的键在旋转前后</translation>
    </message>
    <message>
        <source>raw scores of head {head}</source>
        <translation>第 {head} 个头的原始得分</translation>
    </message>
    <message>
        <source>scores with the future hidden</source>
        <translation>遮住未来之后的得分</translation>
    </message>
    <message>
        <source>attention probabilities of head {head}</source>
        <translation>第 {head} 个头的注意力概率</translation>
    </message>
    <message>
        <source>the attention row of {token}</source>
        <translation>{token} 的那一行注意力</translation>
    </message>
    <message>
        <source>the values it mixes</source>
        <translation>被它混合的值</translation>
    </message>
    <message>
        <source>the output of head {head}</source>
        <translation>第 {head} 个头的输出</translation>
    </message>
    <message>
        <source>{n_heads} heads side by side</source>
        <translation>{n_heads} 个头并排拼接</translation>
    </message>
    <message>
        <source>what attention adds</source>
        <translation>注意力加上的量</translation>
    </message>
    <message>
        <source>input, change and sum</source>
        <translation>输入、增量与和</translation>
    </message>
    <message>
        <source>gate before SiLU</source>
        <translation>SiLU 之前的门控</translation>
    </message>
    <message>
        <source>up projection</source>
        <translation>上投影</translation>
    </message>
    <message>
        <source>the gate before and after SiLU</source>
        <translation>SiLU 前后的门控</translation>
    </message>
    <message>
        <source>gate, up and their product</source>
        <translation>门控、上投影及二者之积</translation>
    </message>
    <message>
        <source>what the feed-forward network adds</source>
        <translation>前馈网络加上的量</translation>
    </message>
    <message>
        <source>input, change and the layer&apos;s output</source>
        <translation>输入、增量与这一层的输出</translation>
    </message>
    <message>
        <source>the residual stream of {token} after each layer</source>
        <translation>{token} 在每一层之后的残差流</translation>
    </message>
    <message>
        <source>the last layer&apos;s output, normalised</source>
        <translation>最后一层的输出，归一化之后</translation>
    </message>
    <message>
        <source>all {V} logits</source>
        <translation>全部 {V} 个 logits</translation>
    </message>
    <message>
        <source>the highest logits as probabilities</source>
        <translation>最高的几个 logits 对应的概率</translation>
    </message>
    <message>
        <source>the distribution sampled from</source>
        <translation>用来采样的分布</translation>
    </message>
    <message>
        <source>the chosen token</source>
        <translation>选中的词元</translation>
    </message>
    <message>
        <source>◀ Previous</source>
        <translation>◀ 上一步</translation>
    </message>
    <message>
        <source>Next ▶</source>
        <translation>下一步 ▶</translation>
    </message>
    <message>
        <source>Export step…</source>
        <translation>导出这一步…</translation>
    </message>
    <message>
        <source>Walk layer {layer}</source>
        <translation>讲解第 {layer} 层</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Head</source>
        <translation>头</translation>
    </message>
    <message>
        <source>Token</source>
        <translation>词元</translation>
    </message>
    <message>
        <source>Computing the values of position {pos}…</source>
        <translation>正在计算位置 {pos} 的数值…</translation>
    </message>
    <message>
        <source>Run a prompt first: the walkthrough follows one forward pass.</source>
        <translation>请先运行一个提示词：讲解跟随的是一次前向计算。</translation>
    </message>
    <message>
        <source>This step shows values the trace does not keep; they are recomputed with the loaded model. Open the model to see them.</source>
        <translation>这一步显示的数值不在记录（trace）里，需要用已加载的模型重新计算。请打开对应的模型后再查看。</translation>
    </message>
    <message>
        <source>argmax(p)</source>
        <translation>argmax(p)（取概率最大者）</translation>
    </message>
    <message>
        <source>a draw from p with seed {seed}</source>
        <translation>按 p 抽样，随机种子 {seed}</translation>
    </message>
</context>
<context>
    <name>WhatIfActions</name>
    <message>
        <source>Nothing to rank</source>
        <translation>没有可排名的内容</translation>
    </message>
    <message>
        <source>Run a prompt first.</source>
        <translation>请先运行一个提示词。</translation>
    </message>
    <message>
        <source>Ranking heads…</source>
        <translation>正在为头排名…</translation>
    </message>
    <message>
        <source>Nothing to compare</source>
        <translation>没有可比较的内容</translation>
    </message>
    <message>
        <source>Type prompt B first.</source>
        <translation>请先输入提示词 B。</translation>
    </message>
    <message>
        <source>Comparing…</source>
        <translation>正在比较…</translation>
    </message>
    <message>
        <source> · variant set, not run yet</source>
        <translation> · 已设置变体，尚未运行</translation>
    </message>
    <message>
        <source>Could not rank the heads</source>
        <translation>无法为头排名</translation>
    </message>
    <message>
        <source>Could not compare</source>
        <translation>无法比较</translation>
    </message>
    <message>
        <source>Export head ranking</source>
        <translation>导出头排名</translation>
    </message>
</context>
<context>
    <name>WhatIfPanel</name>
    <message>
        <source>the model&apos;s own</source>
        <translation>模型自身的</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>linear</source>
        <translation>线性</translation>
    </message>
    <message>
        <source>NTK</source>
        <translation>NTK 感知</translation>
    </message>
    <message>
        <source>YaRN</source>
        <translation>YaRN 缩放</translation>
    </message>
    <message>
        <source>Llama 3.1</source>
        <translation>Llama 3.1 缩放</translation>
    </message>
    <message>
        <source>zero</source>
        <translation>置零</translation>
    </message>
    <message>
        <source>mean</source>
        <translation>均值</translation>
    </message>
    <message>
        <source>Run variant</source>
        <translation>运行变体</translation>
    </message>
    <message>
        <source>Back to the model</source>
        <translation>回到原模型</translation>
    </message>
    <message>
        <source>Ablate selected head</source>
        <translation>消融所选的头</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清空</translation>
    </message>
    <message>
        <source>Rank heads</source>
        <translation>头排名</translation>
    </message>
    <message>
        <source>Click heads to ablate</source>
        <translation>点击头以消融</translation>
    </message>
    <message>
        <source>Base θ</source>
        <translation>基数 θ</translation>
    </message>
    <message>
        <source>Rotary fraction</source>
        <translation>旋转比例</translation>
    </message>
    <message>
        <source>Mode</source>
        <translation>方式</translation>
    </message>
    <message>
        <source>Scaling</source>
        <translation>缩放</translation>
    </message>
    <message>
        <source>Heads of</source>
        <translation>头的范围</translation>
    </message>
    <message>
        <source>Effect on</source>
        <translation>影响对象</translation>
    </message>
    <message>
        <source>Ablate heads</source>
        <translation>消融头</translation>
    </message>
    <message>
        <source>Change RoPE</source>
        <translation>修改 RoPE</translation>
    </message>
    <message>
        <source>zero: the head&apos;s output is 0; mean: its mean over positions</source>
        <translation>置零：该头的输出为 0；均值：取其在各位置上的均值</translation>
    </message>
    <message>
        <source>While ticked, a click on a head thumbnail, a double-click in the head statistics or the ranking adds or removes that head</source>
        <translation>勾选时，单击头缩略图、或在头统计与排名中双击，即可添加或移除该头</translation>
    </message>
    <message>
        <source>the next token whose probability each ablation changes</source>
        <translation>每次消融所改变其概率的下一个词元</translation>
    </message>
    <message>
        <source>this layer</source>
        <translation>本层</translation>
    </message>
    <message>
        <source>all layers</source>
        <translation>所有层</translation>
    </message>
    <message>
        <source>Not valid: {reason}</source>
        <translation>无效：{reason}</translation>
    </message>
    <message>
        <source>the model itself</source>
        <translation>原模型本身</translation>
    </message>
    <message>
        <source>Nothing run yet.</source>
        <translation>尚未运行。</translation>
    </message>
    <message>
        <source>variant · {label}</source>
        <translation>变体 · {label}</translation>
    </message>
    <message>
        <source>Shown: {what}.</source>
        <translation>显示：{what}。</translation>
    </message>
    <message>
        <source>Shown: {shown}. Set: {pending} (not run yet: press Run variant).</source>
        <translation>显示：{shown}。已设置：{pending}（尚未运行：请点击“运行变体”）。</translation>
    </message>
    <message>
        <source>the model</source>
        <translation>原模型</translation>
    </message>
</context>
</TS>
