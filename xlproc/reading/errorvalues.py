"""Excel's error values (#DIV/0!, #N/A …): what each means to the person who sees it.

python-calamine reads an error cell as blank (and refuses the newer codes outright),
so the reader takes error values from the sheet XML (sheetscan.py) and reports each
as a cell problem naming the error, in any cell, required or not.
"""

from __future__ import annotations

MEANINGS = {
    "#DIV/0!": "公式中除数为零",
    "#N/A": "公式查找不到所需的值",
    "#VALUE!": "公式中参与计算的数据类型不对",
    "#REF!": "公式引用的单元格已被删除",
    "#NUM!": "公式的数值无效或超出范围",
    "#NAME?": "公式中有无法识别的函数或名称",
    "#NULL!": "公式引用的区域没有交集",
    "#GETTING_DATA": "数据尚未取得",
    "#SPILL!": "动态数组公式的结果区域被占用",
    "#CALC!": "公式无法计算",
    "#FIELD!": "公式引用的字段不存在",
    "#BLOCKED!": "公式所需的功能被禁用",
    "#CONNECT!": "公式无法连接数据源",
    "#BUSY!": "公式仍在计算",
    "#UNKNOWN!": "数据类型不受支持",
    "#PYTHON!": "Python 公式出错",
    "#EXTERNAL!": "外部引用出错",
}
# The codes python-calamine 0.9 accepts; any other makes it refuse the whole sheet.
CALAMINE_CODES = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"})


def clean_code(text: str) -> str:
    """An error code from the file, made safe to print (short, printable)."""
    code = "".join(ch for ch in text.strip()[:24] if ch.isprintable())
    return code or "#?"


def error_message(code: str, numeric: bool) -> str:
    """The Chinese problem message for a cell showing ``code``."""
    meaning = MEANINGS.get(code.upper())
    what = f"错误值 {code}（{meaning}）" if meaning else f"错误值 {code}"
    fix = "请修正公式，或直接填写数字" if numeric else "请修正公式，或直接填写内容"
    return f"单元格显示{what}，不是有效数据。{fix}"
