"""The text of the 填表说明 sheet (what a department reads before filling in)."""

from __future__ import annotations

from ..form.spec import FormSpec


def instruction_lines(spec: FormSpec, year: int | None = None, department: str | None = None) -> list[str]:
    """First line is the title; the rest are paragraphs, one per row."""
    title = f"{year}年度{spec.title}" if year else spec.title
    lines = [
        title,
        f"表单编号：{spec.form_id}　版本：{spec.version}　考核办法：{spec.rubric.title}",
        *([f"填报单位：{department}"] if department else []),
        "一、本工作簿由财政局统一下发，请在 Excel 或 WPS 表格中直接填写后原样报回，不要另存为 .xls 或其他格式。",
        "二、黄色单元格为填报项；蓝色单元格为自动计算项，由公式根据填报内容生成，无需也无法修改；灰色单元格为说明文字。",
        f"三、金额单位统一为{spec.unit}，保留两位小数（个别注明四位小数的除外）；百分比直接填写百分数，如 87.40 表示 87.40%。",
        "四、选中单元格时会显示该项的填写提示；有下拉箭头的单元格请从列表中选择。",
        "五、表格类内容（绩效目标、非税收入、项目台账等）行数不够时可插入行，空行不会计入统计，也不会出现在报告中。",
        "六、项目台账中的事前评估、年中监控、年末实现和自评得分等统计数由台账自动汇总，请逐个项目如实填写，不要另行填报汇总数。",
        "七、各表“说明”栏请用本单位自己的语言简要写明数据背后的工作情况，报告将原文引用。",
        "八、请勿删除、重命名或调整工作表顺序，请勿修改隐藏的表单信息，否则审核程序将无法识别本表。",
        "九、报回后财政局将退回审核意见：标红的为强制性问题，须修改；标橙的为提示性问题，修改或在“审核结果”表的“说明”列中解释；问题出在自动计算的单元格时，参与计算的填报单元格一并标出，请修改这些填报单元格。",
        "",
        "工作表一览：",
        *[f"　{i}. {s.name}：{s.title}" for i, s in enumerate(spec.sheets, start=1)],
    ]
    return lines
