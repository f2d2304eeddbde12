"""Findings: problems found in any input, as data.

Every problem the toolkit finds in a file a person made (the project list, the unit directory, a returned
workbook, a ballot entry sheet, a notice) is a :class:`Finding`, never an exception. Each finding carries a
stable kebab-case code from the one registry below; the README's table of codes is generated from it
(``python -m shixiang_xl.findings``).
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Iterable


class Severity(str, enum.Enum):
    """How bad a finding is. The value is what clerks read."""

    ERROR = "错误"
    WARNING = "警告"
    INFO = "提示"

    @property
    def rank(self) -> int:
        return {"错误": 0, "警告": 1, "提示": 2}[self.value]


@dataclass(frozen=True)
class Code:
    """One registered finding code."""

    code: str
    severity: Severity
    stage: str
    title: str


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO

# The one registry. Stages follow the data's path. Append new codes to their stage; never rename a code.
_CODES: tuple[Code, ...] = (
    # --- configuration and workspace
    Code("config-invalid", E, "config", "配置文件 shixiang.toml 有误"),
    # --- unit directory (单位名录)
    Code("directory-missing-column", E, "directory", "单位名录缺少必需的列"),
    Code("directory-empty-name", E, "directory", "单位全称为空"),
    Code("directory-duplicate-name", E, "directory", "单位全称重复"),
    Code("directory-duplicate-alias", E, "directory", "同一简称/别名属于两个单位"),
    Code("directory-bad-email", W, "directory", "电子邮箱格式不正确"),
    # --- project list (项目清单)
    Code("workbook-unreadable", E, "projects", "工作簿无法读取"),
    Code("sheet-missing", E, "projects", "缺少必需的工作表"),
    Code("column-missing", E, "projects", "缺少必需的列"),
    Code("project-number-missing", E, "projects", "项目序号为空或不是整数"),
    Code("project-number-duplicate", E, "projects", "项目序号重复"),
    Code("project-name-missing", E, "projects", "项目名称为空"),
    Code("project-lead-missing", E, "projects", "项目没有牵头单位"),
    Code("unit-unknown", E, "projects", "单位不在单位名录中"),
    Code("unit-alias-resolved", I, "projects", "单位简称已按名录解析为全称"),
    Code("unit-group-expanded", I, "projects", "单位分组已展开为成员单位"),
    Code("due-month-invalid", E, "projects", "计划完成时间不是 1–12 月"),
    Code("indicator-project-unknown", E, "projects", "指标指向不存在的项目"),
    Code("indicator-number-invalid", E, "projects", "指标序号为空、不是整数或重复"),
    Code("indicator-name-missing", E, "projects", "指标名称为空"),
    Code("target-not-number", E, "projects", "目标值不是数字"),
    Code("target-negative", E, "projects", "目标值为负数"),
    Code("comparator-invalid", E, "projects", "比较方式不是 ≥、≤ 或 ="),
    Code("split-invalid", E, "projects", "按协办单位分解只能填“是”或“否”"),
    Code("split-without-co-units", E, "projects", "指标按协办单位分解，但项目没有协办单位"),
    Code("indicator-lead-invalid", E, "projects", "指标的责任单位不是该项目的牵头单位"),
    Code("milestone-invalid", E, "projects", "时间节点的月份或计划进度有误"),
    Code("indicator-kind-invalid", E, "projects", "指标类型不是累计数、比率、上限、节点之一"),
    Code("project-list-empty", E, "projects", "项目清单没有任何项目"),
    # --- intake: reading returned files safely
    Code("file-empty", E, "intake", "文件为空"),
    Code("file-not-spreadsheet", E, "intake", "不是电子表格文件"),
    Code("file-extension-mismatch", W, "intake", "扩展名与文件实际格式不符"),
    Code("file-encrypted", E, "intake", "文件已加密"),
    Code("file-corrupt", E, "intake", "文件已损坏或不完整"),
    Code("file-too-large", E, "intake", "文件过大"),
    Code("zip-bomb", E, "intake", "压缩内容异常（疑似压缩炸弹）"),
    Code("xml-entity", E, "intake", "含有不安全的 XML 实体声明"),
    Code("cell-out-of-range", E, "intake", "工作表含有远超模板范围的单元格"),
    Code("read-timeout", E, "intake", "读取超时"),
    Code("read-memory", E, "intake", "读取时内存超限"),
    Code("read-failed", E, "intake", "读取失败"),
    Code("macros-ignored", W, "intake", "含有宏，已忽略（宏不会被执行）"),
    Code("converted", I, "intake", "文件已用 LibreOffice 转换后读取"),
    Code("converter-missing", E, "intake", "需要 LibreOffice 转换，但本机未安装"),
    Code("duplicate-file", I, "intake", "同一文件重复报送，只计一次"),
    Code("superseded", I, "intake", "同一单位本期有更新的报送，本文件未采用"),
    Code("archive-member-skipped", W, "intake", "压缩包中的文件被跳过"),
    Code("file-outside-inbox", E, "intake", "文件是指向收件文件夹以外的链接，已拒绝读取"),
    # --- identity (_meta)
    Code("meta-missing", E, "identity", "缺少填报表身份信息（_meta），无法确认来源"),
    Code("meta-forged", E, "identity", "填报表身份信息校验失败（可能被篡改）"),
    Code("meta-other-workspace", E, "identity", "填报表不是本督查室下发的"),
    Code("meta-spec-version", W, "identity", "填报表模板版本与当前不同"),
    Code("period-mismatch", E, "identity", "填报表属于其他报送期"),
    Code("unit-unknown-return", E, "identity", "填报单位不在单位名录中"),
    Code("unit-nothing-to-report", W, "identity", "该单位本期没有需要填报的项目"),
    # --- structure
    Code("sheet-renamed", W, "structure", "工作表被改名"),
    Code("sheet-missing-return", E, "structure", "缺少填报工作表"),
    Code("row-moved", W, "structure", "行被插入、删除或移动"),
    Code("row-missing", E, "structure", "指标行被删除"),
    Code("column-moved", W, "structure", "列被插入、删除或移动"),
    Code("column-missing-return", E, "structure", "填报列被删除"),
    Code("locked-changed", E, "structure", "锁定内容被修改"),
    # --- values
    Code("required-empty", E, "values", "必填项未填写"),
    Code("text-in-number-cell", W, "values", "数字单元格中填写了文字（已识别数值）"),
    Code("number-unreadable", E, "values", "数字单元格中的内容无法识别为数字"),
    Code("negative-number", E, "values", "数值为负数"),
    Code("number-implausible", E, "values", "数值大得不合常理（远超目标或超出合理范围）"),
    Code("formula-in-input", E, "values", "填报单元格中填写了公式"),
    Code("error-value-in-input", E, "values", "填报单元格中是 Excel 错误值（#VALUE!、#REF!、#N/A 等）"),
    Code("percent-out-of-range", E, "values", "百分比不在 0–100 之间"),
    Code("percent-as-fraction", W, "values", "百分比疑似按小数填写"),
    Code("status-invalid", E, "values", "状态不是“未启动/推进中/已完成”之一"),
    Code("cumulative-decreased", E, "values", "累计完成值小于上期累计"),
    Code("current-mismatch", W, "values", "本期完成值不等于累计完成值减上期累计"),
    Code("cumulative-above-target", W, "values", "累计完成值远超目标值"),
    Code("done-below-100", W, "values", "状态为已完成，但总体进度不足 100%"),
    Code("not-started-with-progress", W, "values", "状态为未启动，但总体进度大于 0"),
    Code("progress-inconsistent", W, "values", "总体进度与指标完成情况相差较大"),
    Code("progress-text-short", W, "values", "进展情况过于简略"),
    Code("progress-text-copied", W, "values", "进展情况与上期完全相同"),
    Code("phone-invalid", W, "values", "联系电话不是有效的手机或座机号码"),
    Code("date-invalid", W, "values", "日期无法识别或不在报送期内"),
    Code("text-too-long", W, "values", "文字过长，已截断"),
    Code("co-share-mismatch", W, "values", "协办单位分解数之和与牵头单位数据不一致"),
    Code("unit-scale-mismatch", E, "values", "填报数值与目标值的计量单位疑似相差一万倍（如把“户”当作“万户”填写）"),
    Code("fraction-in-count", E, "values", "按个数计的指标填写了小数"),
    Code("status-contradicts-figures", W, "values", "填报的状态与指标完成情况不一致"),
    Code("node-date-missing", W, "values", "节点类指标已完成，但没有填完成日期"),
    Code("node-date-not-done", W, "values", "节点类指标填了完成日期，但没有选“已完成”"),
    Code("receipt-time-doubtful", W, "values", "收到时间晚于截止时间超过一个报送期，请核对收到时间"),
    # --- survey (满意度测评)
    Code("ballot-duplicate", E, "survey", "测评票编号重复"),
    Code("ballot-out-of-range", E, "survey", "测评票编号不在发放范围内"),
    Code("ballot-blank-item", I, "survey", "测评项未填写，按弃权计"),
    Code("ballot-multiple-choice", W, "survey", "一个测评项选择了多个选项，该项无效"),
    Code("ballot-invalid-choice", W, "survey", "测评项的选项无法识别，该项无效"),
    Code("entry-discrepancy", E, "survey", "两位录入员的录入结果不一致"),
    Code("ballot-id-invalid", E, "survey", "测评票编号为空或无法识别"),
    Code("entry-not-survey", E, "survey", "不是满意度测评录入表"),
    Code("entry-other-year", E, "survey", "录入表属于其他年度的测评"),
    Code("entry-projects-changed", E, "survey", "录入表的测评项目与当前项目清单不一致"),
    Code("entry-layout-changed", E, "survey", "录入表的工作表或表头被改动"),
    Code("entry-empty", W, "survey", "录入表中没有录入任何测评票"),
    # --- import of the notice
    Code("notice-unreadable", E, "import", "通知文件无法读取"),
    Code("notice-no-projects", E, "import", "未在通知中找到项目"),
    Code("indicator-needs-review", I, "import", "指标识别可能不准确，请核对"),
    Code("indicator-kind-doubtful", I, "import", "指标类型（累计数、比率、上限、节点）推断不确定，请核对"),
    Code("unit-unresolved", W, "import", "单位未能在名录中找到"),
    Code("notice-number-irregular", W, "import", "通知中的项目序号缺失、重复或不连续，已重新编号"),
    Code("notice-project-no-lead", W, "import", "项目未识别出牵头单位"),
    Code("notice-no-indicators", I, "import", "项目未识别出量化指标"),
    Code("notice-project-count", W, "import", "识别出的项目数与通知所说的件数不符"),
    Code("notice-place-unknown", W, "import", "未从通知中识别出区县名称或年度，请指定"),
    # --- mail: sending workbooks out (send) and taking returns in (collect)
    Code("mail-no-address", E, "mail", "单位名录中没有该单位的电子邮箱，未发送"),
    Code("mail-refused", E, "mail", "收件人被邮件服务器拒收"),
    Code("mail-failed", E, "mail", "邮件发送失败（连接中断或服务器出错）"),
    Code("mail-unreadable", E, "mail", "邮件文件无法读取"),
    Code("mail-too-large", E, "mail", "邮件过大，未处理"),
    Code("mail-too-many", W, "mail", "邮件或附件数量超过上限，其余未处理"),
    Code("sender-unknown", W, "mail", "发件人不在单位名录中"),
    Code("attachment-unsafe-name", W, "mail", "附件名不安全，已改名保存"),
    Code("attachment-renamed", I, "mail", "已有同名但内容不同的文件，附件已加序号另存"),
    Code("attachment-too-large", E, "mail", "附件过大，未保存"),
    Code("attachment-not-spreadsheet", W, "mail", "附件不是电子表格，未保存"),
)

REGISTRY: dict[str, Code] = {c.code: c for c in _CODES}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in an input: where it is, how bad it is, and what to do (in Chinese)."""

    code: str
    severity: Severity
    message: str
    file: str = ""
    sheet: str = ""
    cell: str = ""
    unit: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def title(self) -> str:
        """The problem's Chinese name, for what units and clerks read (the code stays for machines)."""
        registered = REGISTRY.get(self.code)
        return registered.title if registered else self.code

    @property
    def place(self) -> str:
        """The place as a clerk reads it: 文件 › 工作表 › 单元格."""
        parts = [p for p in (self.file, self.sheet, self.cell) if p]
        return " › ".join(parts)

    def to_dict(self) -> dict[str, str]:
        d = asdict(self)
        d["severity"] = self.severity.value
        return d

    def line(self) -> str:
        """One printable line."""
        where = f"[{self.place}] " if self.place else ""
        return f"{self.severity.value} {self.code}: {where}{self.message}"


def finding(code: str, message: str, *, file: str = "", sheet: str = "", cell: str = "", unit: str = "",
            severity: Severity | None = None) -> Finding:
    """Make a finding with the registered severity of ``code`` (``KeyError`` for an unregistered code)."""
    registered = REGISTRY[code]
    return Finding(code, severity or registered.severity, message, file, sheet, cell, unit)


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding is an error."""
    return any(f.is_error for f in findings)


def sort_key(f: Finding) -> tuple:
    """Deterministic order: severity, file, sheet, cell (row then column), code."""
    return (f.severity.rank, f.unit, f.file, f.sheet, _cell_order(f.cell), f.code, f.message)


def _cell_order(cell: str) -> tuple[int, int]:
    letters = "".join(ch for ch in cell if ch.isalpha())
    digits = "".join(ch for ch in cell if ch.isdigit())
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return (int(digits) if digits else 0, col)


def docs_table() -> str:
    """The README's markdown table of every finding code."""
    lines = ["| code | 级别 | 阶段 | 含义 |", "|---|---|---|---|"]
    lines += [f"| `{c.code}` | {c.severity.value} | {c.stage} | {c.title} |" for c in _CODES]
    return "\n".join(lines)


def update_readme(path: str) -> bool:
    """Rewrite the table between the README's findings markers; True when the file changed."""
    from pathlib import Path

    start, end = "<!-- findings:start -->", "<!-- findings:end -->"
    readme = Path(path)
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    new = f"{head}{start}\n{docs_table()}\n{end}{tail}"
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--update"]:
        update_readme(sys.argv[2])
    else:
        print(docs_table())
