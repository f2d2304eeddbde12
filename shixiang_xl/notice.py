"""Importing the published notice (通知): the project list and its quantitative targets, read from the notice itself.

The work is done in three stages, each usable on its own:

1. **reading** (:func:`read_notice`): the file becomes plain text and tables (:mod:`.notice_files` reads each
   format), then a list of raw project records, whatever the layout — a table in a .docx / .md / .xlsx / .csv, a
   PDF table copied out as text (cells broken one per line, page breaks inside), a web table one cell per line, or
   a list in text in any of the ways notices write one (found by :mod:`.notice_layouts`) with 牵头单位：… lines;
2. **normalising** (:func:`normalize_text`, in :mod:`.notice_targets`): full-width characters, traditional
   characters, injected pinyin, LaTeX left by PDF-to-markdown converters, page markers, stray spaces in numbers;
3. **extracting** (:func:`extract_indicators`, in :mod:`.notice_targets`): the measurable targets in a project's
   content, as a pure function of the text, and dated steps as 时间节点 (:func:`split_milestones`).

:func:`import_notice` runs all three and resolves units against the unit directory. Problems in the notice are
findings, never exceptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from .findings import Finding, finding
from .projects import Indicator, Project, ProjectList, parse_due_month
from .textnorm import compact, fold, format_number
from .units import Directory
from .notice_files import HtmlTables, read_csv, read_docx, read_sheets, read_text_file, text_tables
from .notice_layouts import (PROGRESS_LABEL, UNIT_LABEL, Candidate, cell_table_rows, find_items, progress_sentence,
                             score_candidate, stated_count)
from .notice_targets import (_VERBS, _candidates, _find_unit, _join_lines, _tight, due_month_from_text,  # noqa: F401
                             extract_indicators, normalize_line, normalize_text, split_milestones)

# ================================================================== vocabulary

# Column headings of the annex table, by column key; matched after removing spaces, so "项 目 名 称" works too.
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "number": ("序号", "编号", "项目序号", "项目编号", "序"),
    "name": ("项目名称", "实事项目", "民生实事", "民生实事项目", "实事名称", "实事项目名称", "项目", "名称",
             "十件实事", "实事"),
    "content": ("项目主要内容", "主要内容", "目标任务", "工作举措", "建设内容", "实施内容", "项目内容", "工作内容",
                "主要目标", "具体内容", "任务目标", "工作目标", "目标任务及措施", "主要建设内容", "建设内容及规模",
                "项目内容及目标", "工作任务", "具体任务及目标", "任务及目标", "年度目标", "建设任务", "内容", "目标"),
    "lead": ("牵头单位", "责任单位", "主办单位", "牵头部门", "责任部门", "主责单位", "承办单位", "牵头责任单位",
             "主体责任单位", "牵头领导及单位"),
    "co": ("协办单位", "配合单位", "责任主体与协同单位", "协同单位", "配合部门", "协办部门", "参与单位",
           "协作单位", "配合责任单位"),
    "due": ("计划完成时间", "完成时间", "完成时限", "时间节点", "完成期限", "办结时限", "完成时间节点"),
    "note": ("备注",),
}

# Labels inside prose or inside a combined 责任单位 cell.
_LEAD_LABELS = ("牵头单位", "责任单位", "主办单位", "牵头部门", "责任部门", "主责单位", "承办单位")
_CO_LABELS = ("协办单位", "配合单位", "协同单位", "配合部门", "协办部门", "参与单位", "协作单位")
_DUE_LABELS = ("计划完成时间", "完成时限", "完成时间", "完成期限", "时间节点")

# ================================================================== results


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_notice` read: the project list, every finding, and the notice's own particulars."""

    projects: ProjectList
    findings: list[Finding] = field(default_factory=list)
    district: str = ""
    year: int | None = None
    title: str = ""
    unresolved: list[str] = field(default_factory=list)
    layout: str = ""  # "table" | "text-table" | "prose": how the projects were laid out in the notice


@dataclass
class RawProject:
    """One project as read from the notice, before units are resolved and indicators extracted."""

    number: int | None
    name: str = ""
    content: str = ""
    lead: str = ""
    co: str = ""
    due: str = ""
    place: str = ""  # where it was read (a cell such as C4, or 第 12 行)
    co_labelled: bool = True  # False when the only unit list was a 责任单位 without a separate co list


@dataclass
class NoticeSource:
    """Stage 1's result: the notice as text (for its title, district and year) and its raw projects."""

    text: str
    records: list[RawProject]
    layout: str
    findings: list[Finding] = field(default_factory=list)


# ================================================================== stage 1: reading


def _header_key(cell: str) -> tuple[str, int] | None:
    """(column key, strength) for a heading cell, or None. Exact matches beat the longest contained synonym."""
    h = re.sub(r"[\s\-—*#:：()（）]", "", fold(cell))
    if not h or len(h) > 14:
        return None
    best: tuple[str, int] | None = None
    for key, names in HEADER_SYNONYMS.items():
        for n in names:
            score = 100 + len(n) if h == n else (len(n) if n in h and len(n) >= 2 else 0)
            if score and (best is None or score > best[1]):
                best = (key, score)
    return best


def _header_columns(row: list[str]) -> dict[str, int]:
    """Column index per key when ``row`` is a heading row (at least two keys, one of them name or content)."""
    # 牵头单位 beside a 责任单位: the 牵头 column leads, the other lists the co-units.
    scored = sorted(((k[1] + ("牵头" in compact(cell)), c, k[0]) for c, cell in enumerate(row)
                     if (k := _header_key(cell))), reverse=True)
    cols: dict[str, int] = {}
    taken: set[int] = set()
    for _, c, key in scored:
        if key == "lead" and "lead" in cols and "co" not in cols and c not in taken:
            key = "co"
        if key not in cols and c not in taken:
            cols[key] = c
            taken.add(c)
    if len(cols) >= 2 and ("name" in cols or "content" in cols):
        return cols
    return {}


def _subheading_columns(row: list[str]) -> dict[str, int]:
    """Column keys of a row made only of exact headings (牵头单位 | 配合单位 under a merged 责任单位)."""
    filled = [(c, cell) for c, cell in enumerate(row) if compact(cell)]
    keys = [(c, _header_key(cell)) for c, cell in filled]
    if not keys or any(k is None or k[1] < 100 for _, k in keys):
        return {}
    return {k[0]: c for c, k in keys if k is not None}


def _cell_number(text: str) -> int | None:
    """序号 of a row: 1, "1.", "（一）", "一" → int; None for headings or blanks."""
    s = compact(text).strip(".、．)）(（")
    if re.fullmatch(r"\d{1,3}", s):
        return int(s)
    if re.fullmatch(r"\d{1,3}\.0", s):
        return int(float(s))
    if re.fullmatch(r"[一二三四五六七八九十]{1,3}", s):
        import cn2an

        try:
            return int(cn2an.cn2an(s, "smart"))
        except (ValueError, KeyError, IndexError):
            return None
    return None


def _records_from_tables(tables: list[tuple[list[list[str]], list[str]]]) -> list[RawProject]:
    """Raw projects from headed tables. A table without a heading row continues the previous table's columns
    (a table broken by a page); rows without a 序号 continue the previous project."""
    records: list[RawProject] = []
    cols: dict[str, int] = {}
    lead_heading = ""
    for rows, places in tables:
        for r, row in enumerate(rows):
            cells = [normalize_text(c if isinstance(c, str) else ("" if c is None else str(c))) for c in row]
            found = _header_columns(cells)
            sub = {} if found or not cols else _subheading_columns(cells)
            if found or sub:
                # A second heading row (责任单位 over 牵头单位 | 配合单位) adds to the first.
                cols = found or {**{k: c for k, c in cols.items() if c not in sub.values()}, **sub}
                lead_heading = compact(cells[cols["lead"]]) if "lead" in cols and "lead" in (found or sub) \
                    else lead_heading
                continue
            if not cols or not any(c.strip() for c in cells):
                continue

            def get(key: str) -> str:
                c = cols.get(key)
                return cells[c] if c is not None and c < len(cells) else ""

            number = _cell_number(get("number")) if "number" in cols else None
            if "number" not in cols and "name" in cols and _numbered_names(rows, cols["name"]):
                # The 序号 is written in the name cell (1.城市人居环境提升项目); a row without one continues the
                # project above, its cells shifted left where the name cell was merged (2021.8 | 城投集团 | |).
                m_num = re.match(r"^\s*(\d{1,2})\s*[.、．]\s*", cells[cols["name"]])
                if m_num:
                    number = int(m_num.group(1))
                    cells[cols["name"]] = cells[cols["name"]][m_num.end():]
                elif records:
                    filled = cells + [""] * (max(cols.values()) + 1 - len(cells))
                    while filled and not filled[-1].strip():
                        filled.pop()
                    cells = [""] * (max(len(cells), max(cols.values()) + 1) - len(filled)) + filled
            name = compact(_join_lines(get("name").split("\n")))
            content = _join_lines(get("content").split("\n"))
            if "content" not in cols or "name" not in cols:
                # One column holds both (项目名称及主要内容): split it as prose is split.
                name, content = _split_name_content([l.strip() for l in (get("name") or get("content")).split("\n")
                                                     if l.strip()])
            place = places[r] if r < len(places) else ""
            prev = records[-1] if records else None
            # A row without its own 序号 or name continues the project above (a table broken by a page, or a
            # vertically merged 序号 cell); a row whose only text is in the first cell is a heading (一、教育类).
            if re.fullmatch(r"[一二三四五六七八九十]{1,3}[、.．]?", compact(get("number"))) and not content \
                    and not get("lead").strip():
                continue  # a category row numbered 一 / 二 (一 | 教育类): never a project, never a continuation
            heading = not name and (not content or compact(content) == compact(cells[0])) \
                and not (content == "" and any(get(k).strip() for k in ("lead", "co", "due")))
            continuation = prev is not None and not heading and (
                ("number" in cols and number is None and not name)
                or ("number" in cols and number is not None and number == prev.number)
                or ("number" not in cols and not name))
            if continuation and prev is not None:
                if content and content not in prev.content:
                    prev.content = _join_lines([prev.content, content])
                for key in ("lead", "co", "due"):
                    value = get(key).strip()
                    if value and value not in getattr(prev, key):
                        setattr(prev, key, (getattr(prev, key) + "\n" + value).strip())
                if name and name not in prev.name:
                    prev.name += name
                continue
            if ("number" in cols and number is None) or (not name and not content):
                continue  # 合计 rows, notes under the table
            category = not re.search(r"\d", compact(get("number"))) or re.search(r"(?:类|方面|领域)$", name)
            if not content and not get("lead").strip() and category:
                continue  # a category row (一 | 教育类); a project with only its name (3 | 智慧停车项目) is kept
            if "number" not in cols:
                number = len(records) + 1  # no 序号 column: the order of the rows is the numbering
            lead, co, due = get("lead"), get("co"), get("due")
            # Only a generic 责任单位 column (no co column): by the usual convention its first unit leads.
            co_labelled = "co" in cols or not lead_heading.startswith(("责任", "承办"))
            if re.search(r"(?:牵头|配合|协办|主办)", lead) and _LABEL.search(lead) or _ROLE.search(lead):
                labels = _parse_labels(lead)  # 牵头单位：区教体局；配合单位：区财政局 in one cell
                lead, co = "、".join(labels.lead), "、".join(labels.co + ([co] if co else []))
                co_labelled = labels.co_labelled
            records.append(RawProject(number=number, name=name, content=content, lead=lead, co=co, due=due,
                                      place=place, co_labelled=co_labelled))
    return records


def _numbered_names(rows: list[list[str]], col: int) -> bool:
    """Do most of a table's name cells start with their own number (1.城市人居环境提升项目)?"""
    names = [compact(r[col]) for r in rows if col < len(r) and compact(r[col])]
    numbered = [n for n in names if re.match(r"^\d{1,2}[.、．](?!\d)", n)]
    return len(numbered) >= 2 and len(numbered) >= 0.3 * len(names)


def read_notice(path: Path) -> NoticeSource:
    """Stage 1: the notice at ``path`` as text plus raw project records, in whichever layout it uses.

    Unreadable files give a ``notice-unreadable`` finding and no records.
    """
    fname = path.name
    try:
        head = path.read_bytes()[:8]
    except OSError as exc:
        return NoticeSource("", [], "", [finding("notice-unreadable", f"无法打开通知文件：{exc}。请确认路径正确。",
                                                 file=fname)])
    suffix = path.suffix.lower()
    try:
        workbook = suffix in (".xlsx", ".xlsm", ".xls", ".csv")
        if head.startswith(b"PK\x03\x04") and not workbook:
            # A zip: a .docx (whatever its extension says), unless it turns out to be a workbook.
            try:
                body, tables = read_docx(path)
            except Exception:  # python-docx raises several types for a zip that is not a document
                tables = read_sheets(path)
                body = "\n".join("\n".join(" ".join(r) for r in rows) for rows, _ in tables)
            return _from_tables_or_text(body, tables)
        if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")) and workbook:
            # Each sheet on its own, and the one with the most projects is the list: a second sheet with other
            # headings (指标, 说明) must not add projects.
            sheets = read_sheets(path)
            best = max(sheets, key=lambda t: len(_records_from_tables([t])), default=([], []))
            return _from_tables_or_text("\n".join(" ".join(r) for r in best[0]), [best])
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            return NoticeSource("", [], "", [finding(
                "notice-unreadable", "这是旧版 Word 文档（.doc），无法直接读取。请用 WPS 或 Word 另存为 .docx 后再导入。",
                file=fname)])
        if head.startswith(b"%PDF"):
            return NoticeSource("", [], "", [finding(
                "notice-unreadable", "这是 PDF 文件。请在 PDF 阅读器中全选复制文字，保存为 .txt 后再导入（或另存为 .docx）。",
                file=fname)])
        if suffix == ".csv":
            return _from_tables_or_text("", read_csv(path))
        return _from_text(read_text_file(path))
    except Exception as exc:  # a broken file must become a finding, whatever the library raises
        return NoticeSource("", [], "", [finding(
            "notice-unreadable", f"通知文件无法读取（{type(exc).__name__}: {exc}）。请确认文件完整，"
                                 "或另存为 .docx / .txt 后再导入。", file=fname)])


def _from_tables_or_text(body: str, tables: list[tuple[list[list[str]], list[str]]]) -> NoticeSource:
    """Projects from a document's tables, or from its text when no table has project headings."""
    records = _records_from_tables(tables)
    text = normalize_text(body + "\n" + "\n".join("\n".join("\t".join(r) for r in rows) for rows, _ in tables))
    if records:
        return NoticeSource(text, records, "table")
    # No headed table: the projects are numbered paragraphs (or a table copied as text).
    source = _from_text(body + "\n" + "\n".join("\n".join("\n".join(r) for r in rows) for rows, _ in tables))
    return NoticeSource(text, source.records, source.layout, source.findings)


def _from_text(raw: str) -> NoticeSource:
    """Projects from text: markdown or HTML tables if any, else a PDF table copied as text or numbered prose."""
    html = HtmlTables()
    if "<table" in raw.lower():
        html.feed(raw)
    tables = text_tables(raw) + [(t, [f"HTML 表格第 {r} 行" for r in range(1, len(t) + 1)])
                                      for t in html.tables]
    text = normalize_text(re.sub(r"<[^>]+>", "\n", raw) if html.tables else raw)
    if tables:
        records = _records_from_tables(tables)
        if records:
            return NoticeSource(text, records, "table")
    lines = text.split("\n")
    as_table = _records_from_text_table(lines)
    rows = cell_table_rows(lines, _header_key)
    if rows:
        records = _records_from_tables([(rows, [""] * len(rows))])
        if records:
            return NoticeSource(text, records, "text-table")
    as_prose = _records_from_prose(lines, text)

    def score(records: list[RawProject]) -> tuple[int, int]:
        # The reading that finds more projects with units and targets is the notice's layout.
        return sum(bool(r.lead) + _has_target(r.content) for r in records), len(records)

    named = sum(1 for r in as_table if r.name) >= len(as_table) / 2  # a table's rows have names; a list's lines may not
    if as_table and named and score(as_table) >= score(as_prose):
        return NoticeSource(text, as_table, "text-table")
    return NoticeSource(text, as_prose, "prose")


# ------------------------------------------------------------------ units as written


_UNIT_END = re.compile(r"(?:局|办|委|会|院|厅|处|室|所|站|中心|街道|街|镇|乡|公司|集团|园区|管委会|队|部|社|联|协|馆|"
                       r"行|校|科|组|政府|办事处|台|团|署|司|厂|场|网|片区|村|社区|单位|部门|工会|分公司|机构)$")
_CONTINUES = re.compile(r"^(?:员会|委员会|局|会|室|心|道|站|所|院|厅|办|部|处|队|馆|中心|公司|服务中心|管理局|"
                        r"事处|政府)")
_NO_UNIT = re.compile(r"^[—\-–/无、\s]*$")


@dataclass
class _Piece:
    text: str
    sep: str  # separator before it: "start", "hard" (、，；/), "blank", "newline", "space"
    inner_soft: str = ""  # the strongest soft separator swallowed inside this name ("" | "newline" | "blank" | …)


def _unit_pieces(text: str, directory: Directory | None = None) -> list[_Piece]:
    """Unit names in a cell or in the unit lines of a PDF table, with the separator before each.

    Names split on 、，,；; and spaces/line breaks; a fragment that cannot end a unit name (区教育和 / 体育局,
    区公共法律 服务中心) is joined with the next one across a space or line break.
    """
    s = normalize_text(text).replace("\t", " ")
    s = re.sub(r"[（(]\s*(?:牵头|主办|负责)\s*[)）]", "(牵头)", s)
    tokens = re.split(r"([、，,；;/]+|\n[ \t]*\n[\s]*|\n|[ \t]+)", s)
    pieces: list[_Piece] = []
    sep = "start"
    for tok in tokens:
        if tok is None or tok == "":
            continue
        if re.fullmatch(r"[、，,；;/]+", tok):
            sep = "hard"
            continue
        if re.fullmatch(r"\s+", tok):
            kind = "blank" if tok.count("\n") >= 2 else ("newline" if "\n" in tok else "space")
            if sep in ("start", "hard"):
                continue
            sep = max((sep, kind), key=("newline", "space", "blank").index) if sep != "none" else kind
            continue
        frag = tok.strip()
        if not frag or _NO_UNIT.match(frag):
            sep = "hard" if pieces else "start"
            continue
        if pieces and sep in ("newline", "space", "blank") and _joins(pieces[-1].text, frag, directory):
            last = pieces[-1]
            last.text += frag
            last.inner_soft = max((last.inner_soft or "newline", sep), key=("newline", "space", "blank").index)
        else:
            pieces.append(_Piece(frag, sep if pieces else "start"))
        sep = "none"
    for p in pieces:
        p.text = re.sub(r"等$", "", p.text.strip(" 。.")).strip()
    # Names run together with no separator (区教体局区国投集团各有关乡镇): cut after a unit-name ending where a new
    # name (区… / 县… / 市… / 各…) starts, unless the directory knows the whole as one unit.
    out: list[_Piece] = []
    for p in pieces:
        known = directory is not None and directory.units and directory.resolve(p.text).kind != "unknown"
        cuts = [] if known else [m.end() for m in _RUN_ON.finditer(p.text)]
        parts = [p.text[a:b] for a, b in zip([0] + cuts, cuts + [len(p.text)]) if p.text[a:b]]
        out.append(_Piece(parts[0], p.sep, p.inner_soft))
        out += [_Piece(x, "hard") for x in parts[1:]]
    return [p for p in out if p.text]


_RUN_ON = re.compile(r"(?:局|委|办|室|部|中心|集团|公司|街道|管委会|政府|医院|法院|检察院)(?=(?:区|县|市|各)[\u4e00-\u9fff]{2})")


def _joins(left: str, right: str, directory: Directory | None) -> bool:
    """Is ``right`` the rest of the unit name ``left`` that a line break or space cut?"""
    if directory is not None and directory.units:
        whole, part = directory.resolve(left + right), directory.resolve(left)
        if whole.kind != "unknown" and part.kind == "unknown":
            return True
        if part.kind != "unknown" and whole.kind == "unknown" and not _CONTINUES.match(right):
            return False
    bare = left.replace("(牵头)", "")
    return not _UNIT_END.search(bare) or bool(_CONTINUES.match(right))


def _split_lead_co(text: str) -> tuple[str, str]:
    """The unit lines of one project in a PDF table → (lead, co) text.

    The lead unit's column comes first. Where the two columns share a line, the PDF put a space between them;
    where they do not, a blank line. If such a boundary cuts through a unit name instead, blank lines are not
    column boundaries in this table, and only the first unit is taken as the lead.
    """
    pieces = _unit_pieces(text)
    if not pieces:
        return "", ""
    cut = next((k for k, p in enumerate(pieces) if k >= 1 and p.sep in ("blank", "space")), None)
    if cut is None or any(p.inner_soft in ("blank", "space") for p in pieces[:cut]):
        cut = 1
    return "、".join(p.text for p in pieces[:cut]), "、".join(p.text for p in pieces[cut:])


# ------------------------------------------------------------------ the notice's parts


def _is_title_line(line: str) -> bool:
    s = compact(line).lstrip("#*")
    if re.match(r"^(?:[一二三四五六七八九十]{1,3}[、.．]|[（(][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}[、.．])", s):
        return False  # a numbered heading inside the text (二、民生实事), not the list's title
    return bool(re.search(r"(?:实事|民生项目|实事项目|项目清单|项目表|清单|一览表|安排)$", s)) and 4 <= len(s) <= 40 \
        and ("实事" in s or "民生" in s) and not s.startswith(("关于", "附件")) and not re.search(r"[，。；：:]", s)


def _annex_region(lines: list[str]) -> tuple[int, int]:
    """(first, end) line indexes of the annex that lists the projects; the whole text when there is no annex."""
    heads = [i for i, l in enumerate(lines) if re.fullmatch(r"附件\s*\d*\s*[:：]?", l.strip())]
    titles = [i for i, l in enumerate(lines) if _is_title_line(l)]
    start = 0
    if heads:
        after = [i for i in titles if i > heads[-1]]
        start = (after[0] if after and after[0] - heads[-1] <= 4 else heads[-1]) + 1
    elif titles:
        start = titles[-1] + 1
    end = len(lines)
    for i in range(start, len(lines)):
        s = compact(lines[i])
        if s.startswith("抄送") or (s.endswith("印发") and len(s) <= 40):
            end = i
            break
    if start >= end:
        start = 0
    return start, end


def _heading_words(line: str) -> int:
    """How many table headings (序号, 项目名称, …) the line consists of; 0 if it holds anything else."""
    parts = line.split()
    keys = [_header_key(p) for p in parts]
    return len(parts) if parts and all(k and k[1] >= 100 for k in keys) else 0


def _drop_heading_lines(lines: list[str]) -> list[str]:
    """Blank out the table's heading row (序号 项目名称 … repeated on every page of a PDF), whether on one line or
    one heading per line; a single word such as 项目 alone is kept, as it may end a wrapped project name."""
    counts = [_heading_words(l) for l in lines]
    out = list(lines)
    for i, n in enumerate(counts):
        if not n:
            continue
        near = [counts[j] for j in (i - 2, i - 1, i + 1, i + 2) if 0 <= j < len(lines)]
        if n >= 2 or any(near):
            out[i] = ""
    return out


# A cell holding only a date or a time limit: 2025年10月, 11月底前, 2025.10, 年底前, 年内, 上半年, 秋季学期前.
_DATE_CELL = re.compile(r"^(?:计划)?(?:(?:19|20)\d{2}\s*[-./]\s*\d{1,2}"
                        r"|(?:(?:19|20)\d{2}\s*年\s*)?\d{1,2}\s*月(?:\d{1,2}日)?(?:底|末|份|中旬|上旬|下旬)?"
                        r"|(?:19|20)\d{2}年(?:底|末|内)?|年底|年末|年内|全年|当年|上半年|下半年|秋季学期|春季学期)"
                        r"(?:前|以前|之前)?(?:完成|建成)?$")


def _is_unit_line(line: str) -> bool:
    """A line made only of unit names (区教育局区财政局, 县水利局 各乡镇), however long: never content."""
    if re.search(r"[，。；;,:：\d]", line):
        return False
    pieces = _unit_pieces(line)
    return bool(pieces) and all(_UNIT_END.search(p.text.replace("(牵头)", "")) or p.text.startswith("各")
                                for p in pieces)


def _has_target(text: str) -> bool:
    return bool(_candidates(_tight(text)))


def _records_from_text_table(lines: list[str]) -> list[RawProject]:
    """Projects of an annex table copied out of a PDF: each cell broken one per line, 序号 on a line of its own
    (or before the name), then the name's lines, the content's lines, and the units' lines."""
    first, end = _annex_region(lines)
    body = _drop_heading_lines([l.strip() for l in lines[first:end]])
    width = max((len(_tight(l)) for l in body), default=0)
    long_line = max(12, int(width * 0.6))

    def is_long(l: str) -> bool:
        return len(_tight(l)) >= long_line

    starts: list[tuple[int, int, str]] = []
    expected = 1
    for i, line in enumerate(body):
        m = re.match(r"^(\d{1,2})(?:\s*$|\s*([\u4e00-\u9fff“\"「《（(].*)$)", line)
        if not m or int(m.group(1)) != expected:
            continue
        rest = m.group(2) or ""
        if rest and (_find_unit(rest, 0) or rest[:1] in "月年日"):
            continue  # "13 个小区…": a number inside the content
        prev = next((body[j] for j in range(i - 1, -1, -1) if body[j]), "")
        nxt = next((body[j] for j in range(i + 1, len(body)) if body[j]), "")
        if not rest and (_find_unit(nxt, 0) or (prev and is_long(prev) and not re.search(r"[。；;！]$", prev))
                         or re.match(rf"{expected}\s*[\u4e00-\u9fff“]", nxt)):
            continue  # a page number (also one just before "5 城市供水…"), or a number broken off its unit
        starts.append((i, expected, rest))
        expected += 1
    if len(starts) < 2:
        return []
    # A bare number that starts no project is a page number, unless the PDF broke it off its unit (330 / 个).
    begins = {i for i, _, _ in starts}
    for i, line in enumerate(body):
        if i not in begins and re.fullmatch(r"\d{1,3}", line):
            nxt = next((body[j] for j in range(i + 1, len(body)) if body[j]), "")
            if not _find_unit(nxt, 0):
                body[i] = ""
    records: list[RawProject] = []
    for k, (i, number, rest) in enumerate(starts):
        stop = starts[k + 1][0] if k + 1 < len(starts) else len(body)
        seg = [rest] + body[i + 1:stop]
        # Cells that share a line are separated by spaces: "1 学校扩容 新建小学2所，……" / "……需要。 区教育局".
        parts = rest.split(maxsplit=1)
        if len(parts) == 2 and not re.search(r"[，。；;,:：]", parts[0]) and not _has_target(parts[0]) \
                and (re.search(r"[，。；;,:：]", parts[1]) or is_long(parts[1]) or _has_target(parts[1])):
            seg[:1] = [parts[0], parts[1]]
        for t in range(len(seg) - 1, 0, -1):
            m_tail = re.match(r"^(.*[。；;])\s+(\S.*)$", seg[t])
            if m_tail and not re.search(r"[，。；;,:：]", m_tail.group(2)) and not _has_target(m_tail.group(2)):
                seg[t:t + 1] = [m_tail.group(1), m_tail.group(2)]
                break
        # Name: the short lines without sentence punctuation before the content starts (blank lines allowed).
        j = 0
        name_lines: list[str] = []
        while j < len(seg):
            l = seg[j]
            if l and (is_long(l) or re.search(r"[，。；;,:：]", l) or _has_target(l)):
                break
            name_lines.append(l)
            j += 1
        # Content: up to the last line that is long or has sentence punctuation; what follows are the units.
        last = max((t for t in range(j, len(seg)) if seg[t] and not _is_unit_line(seg[t]) and (
            is_long(seg[t]) or re.search(r"[，。；;,:：]", seg[t]) or _has_target(seg[t]))), default=j - 1)
        content_lines = seg[j:last + 1]
        unit_text = "\n".join(seg[last + 1:]).strip("\n")
        if not content_lines and len([l for l in name_lines if l]) > 1:
            # No sentence at all: the first line is the name, the rest are units.
            nonblank = [l for l in name_lines if l]
            name_lines, unit_text = nonblank[:1], "\n".join(nonblank[1:])
        # A 完成时限 cell (2025年10月, 11月底前, 年内) is a date, never a unit.
        dates = [l for l in unit_text.split("\n") if _DATE_CELL.match(l.strip())]
        unit_text = "\n".join("" if _DATE_CELL.match(l.strip()) else l for l in unit_text.split("\n"))
        lead, co = _split_lead_co(unit_text)
        records.append(RawProject(number=number, name=compact("".join(name_lines)), content=_join_lines(content_lines),
                                  lead=lead, co=co, due="\n".join(d.strip() for d in dates),
                                  place=f"第 {first + i + 1} 行"))
    return records


_LABEL = re.compile(r"[（(]?\s*(" + "|".join(_LEAD_LABELS + _CO_LABELS + _DUE_LABELS) + r")\s*[:：]\s*")
_ROLE = re.compile(r"[（(]([^（）()]{2,80}?)(?:牵头|主办|负责)[，,；;、]?(?:([^（）()]{2,120}?)(?:配合|协办|参与))?[)）]")


def _records_from_prose(lines: list[str], text: str = "") -> list[RawProject]:
    """Projects written as a list in text, in whichever style (see :mod:`.notice_layouts`): numbered lines
    (一、… / （一）… / 1. … / 1。… / （1）… / ① / 01 / 一是), bullets, items inline in one paragraph, clauses after
    分别是, 《…》 titles, bare lines, one paragraph per item; with 牵头单位：… where given.

    Outer levels (categories such as 一、教育类) end an item; every item is kept with the notice's own number,
    whether or not it holds a target.
    """
    stated = stated_count(text or "\n".join(lines))
    first, end = _annex_region(lines)
    regions = [(first, end)] + ([(0, len(lines))] if (first, end) != (0, len(lines)) else [])

    def has_unit(item_lines: list[str]) -> bool:
        return bool(_parse_labels("\n".join(item_lines)).lead)

    best: Candidate | None = None
    best_first = 0
    best_score: tuple = ()
    for a, b in regions:
        cand = find_items(lines[a:b], has_unit, _has_target, stated)
        score = score_candidate(cand, has_unit, _has_target, stated)
        if cand.items and (best is None or score > best_score):  # the annex first: it wins a tie
            best, best_first, best_score = cand, a, score
    if best is None:
        return []
    progress = _is_progress_report(text or "\n".join(lines[:15]))
    records = []
    for it in best.items:
        record = _prose_record(_without_progress(it.lines, progress), best_first + it.line)
        record.number = it.number if best.kind not in ("•", "；", "《》", "lines", "paragraphs") else len(records) + 1
        records.append(record)
    return records


def _is_progress_report(text: str) -> bool:
    """A progress report (进展情况, 进度表, 完成情况通报) rather than the notice of the year's projects."""
    # Said in the title lines, not in an instruction such as 每月报送进展情况.
    head = _tight("\n".join([l for l in text.split("\n") if l.strip()][:6]))
    return bool(re.search(r"(?<!报送)(?<!报告)(?<!上报)(?:进展情况|进度表|进度情况|完成情况|进展通报|推进情况|主要进度|进度如下|"
                          r"未完成项目)", head))


def _without_progress(item_lines: list[str], progress: bool) -> list[str]:
    """An item's lines without what reports progress: a 目前进度：… block (to the item's end, unit lines kept), and in
    a progress report every sentence that reports what was done (已完成…, 累计…, 上半年…)."""
    out: list[str] = []
    in_progress = False
    for line in item_lines:
        if PROGRESS_LABEL.match(line):
            in_progress = True
            continue
        if in_progress and not UNIT_LABEL.match(line):
            continue
        in_progress = False
        if progress and not UNIT_LABEL.match(line):
            sentences = re.findall(r"[^。！？!?]+[。！？!?]?", line)
            kept = [x for x in sentences if not progress_sentence(x.strip())]
            line = "".join(kept) if kept else (sentences[0] if sentences else line)
        out.append(line)
    return out


@dataclass
class _Labelled:
    """Unit and time labels found in a piece of text, and the text without them."""

    lead: list[str]
    co: list[str]
    due: str
    rest: str
    co_labelled: bool  # a lead-specific label (牵头单位) or a co label was used, not just 责任单位


def _parse_labels(text: str) -> _Labelled:
    """牵头单位：…；配合单位：…；完成时限：… (in brackets, on lines of their own, or inline), and
    （区教体局牵头，区财政局配合）."""
    lead: list[str] = []
    co: list[str] = []
    due = ""
    co_labelled = False
    spans: list[tuple[int, int]] = []
    for m in _LABEL.finditer(text):
        label = m.group(1)
        # Inside brackets (…牵头单位：A；配合单位：B）the value ends at the closing bracket.
        line_start = text.rfind("\n", 0, m.start()) + 1
        before = text[line_start:m.end()]
        opened = max(before.rfind("（"), before.rfind("(")) > max(before.rfind("）"), before.rfind(")"))
        nxt = _LABEL.search(text, m.end())
        stop = nxt.start() if nxt else len(text)
        enders = "\n。）)" if opened else "\n。"
        cut = next((i for i in range(m.end(), stop) if text[i] in enders), stop)
        value = text[m.end():cut].strip(" ；;，,")
        close = cut + 1 if cut < len(text) and text[cut] in "）)" else cut
        spans.append((m.start(), close))
        if label in _LEAD_LABELS:
            lead.append(value)
            co_labelled = co_labelled or not label.startswith(("责任", "承办"))
        elif label in _CO_LABELS:
            co.append(value)
            co_labelled = True
        else:
            due = value
    for m in _ROLE.finditer(text):
        lead.append(m.group(1))
        if m.group(2):
            co.append(m.group(2))
        co_labelled = True
        spans.append((m.start(), m.end()))
    rest = text
    for a, b in sorted(spans, reverse=True):
        rest = rest[:a] + "\n" + rest[b:]
    return _Labelled(lead, co, due, rest, co_labelled)


_NAME_FIELD = re.compile(r"^(?:项目名称|实事名称|项目|名称)\s*[:：]\s*")
_CONTENT_FIELD = re.compile(r"^(?:主要内容|建设内容|目标任务|工作内容|项目内容|实施内容|具体内容|工作举措|主要目标)\s*[:：]\s*")


def _split_name_content(lines: list[str]) -> tuple[str, str]:
    """A project's name and content from text that holds both: 一、名称。内容… / 名称 on its own line /
    项目名称：…  主要内容：… / no name at all (then the first clause stands for it)."""
    glued = _glued_name(lines[0]) if lines else None
    if glued:  # 老旧小区改造工程改造17个老旧小区: the name, then the content without it
        return glued, _join_lines([lines[0][len(glued):].lstrip()] + lines[1:])
    named = [l for l in lines if _NAME_FIELD.match(l)]
    if named:
        name = _NAME_FIELD.sub("", named[0])
        rest = [_CONTENT_FIELD.sub("", l) for l in lines if l is not named[0]]
        return compact(name), _join_lines(rest)
    head = lines[0] if lines else ""
    m = re.match(r"^([^。：:；;，,]{2,32}?)[。：:]\s*(.*)$", head)
    if m and not _has_target(m.group(1)):
        return compact(m.group(1)), _join_lines([m.group(2)] + [_CONTENT_FIELD.sub("", l) for l in lines[1:]])
    if head and len(_tight(head)) <= 32 and not re.search(r"[，。；]", head) and not _has_target(head):
        return compact(head), _join_lines([_CONTENT_FIELD.sub("", l) for l in lines[1:]])
    content = _join_lines(lines)
    return re.split(r"[，。；,;]", _tight(content))[0], content


_GLUED_NAME = re.compile(r"^([^，。；：:,;（(]{2,20}?(?:工程|项目|行动|计划))(?=" +
                         "|".join(sorted(_VERBS, key=len, reverse=True)) + ")")


def _glued_name(line: str) -> str | None:
    """A project name written straight before its content with no separator: it ends with 工程/项目/行动/计划 and an
    action follows (城区学校扩容工程新建小学2所)."""
    m = _GLUED_NAME.match(line.strip())
    return m.group(1) if m and not _has_target(m.group(1)) else None


def _prose_record(item_lines: list[str], line_index: int) -> RawProject:
    labels = _parse_labels("\n".join(l for l in item_lines if l != "\u0000"))
    rest_lines = [l.strip(" ；;") for l in labels.rest.split("\n") if l.strip(" ；;，,。")]
    name, content = _split_name_content(rest_lines)
    return RawProject(number=None, name=name, content=content.strip(), lead="、".join(labels.lead),
                      co="、".join(labels.co), due=labels.due, place=f"第 {line_index + 1} 行",
                      co_labelled=labels.co_labelled)


# Words ending in 市/县/区 that are not places (全市, 城区, 社区 …): the character before the ending.
_NOT_PLACE = re.compile(r"^(?:全|本|我|各|该|城|市|县|区|社|园|小|片|景|街|辖|山|库|灾|老|新城|城市|城乡|农村|乡镇|"
                        r"试验|示范|开发|功能|先行|核心|中心|重点|贫困|边远|安置|集中|一|二|三|省|州)")


# Two characters before 市/县/区 that are a verb or a function word (按照市委, 提请市人大), not a place's name.
_NOT_PLACE_VERBS = frozenset("按照 解决 提请 结合 根据 围绕 推动 全面 我们 实施 经过 通过 由于 关于 对于 落实 贯彻 督促 要求 "
                             "组织 参加 召开 出席 代表 报告 承诺 提交 审议 印发 加快 支持 服务 协调".split())


def _place_in_text(text: str) -> str:
    """The place a news text or report is about: the X市 / X县 / X区 named most often where a place's name is
    followed by what a government does or is (旌德县围绕, 泉州市继续, 南昌市第十五届, 大同市政府), "" if none."""
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    head = text[:6000]
    for m in re.finditer(r"(?:市|县|区|旗)(?=人民政府|政府|人大|(?:19|20)\d{2}年|今年|第?[一二三四五六七八九十]+届|"
                         r"将|继续|确定|为民|民生|围绕|\d+件|[一二三四五六七八九十]+件|十大)", head):
        p = m.start()
        # Most names have two characters (旌德县); a longer one (杭州湾市) only where the text starts it (after
        # punctuation or a line break), so that 今年南昌市 is not read as one name.
        stem = ""
        for size in (4, 3, 2):
            cand = head[max(0, p - size):p]
            left = head[p - size - 1] if p - size - 1 >= 0 else "\n"
            if len(cand) == size and re.fullmatch(r"[\u4e00-\u9fff]+", cand) and cand[0] not in _NOT_NAME_START \
                    and (size == 2 or not re.match(r"[\u4e00-\u9fff]", left)):
                stem = cand
                break
        name = stem + m.group()
        if not stem or _NOT_PLACE.match(name) or re.search(r"[市县区省度年]", stem[-2:]) or stem[-2:] in _NOT_PLACE_VERBS:
            continue
        counts[name] = counts.get(name, 0) + 1
        first.setdefault(name, p)
    if not counts:
        return ""
    return max(counts, key=lambda n: (counts[n], -first[n]))


_NOT_NAME_START = frozenset("年月日讯的了在和与及为是将把对从向今近据由")


def notice_particulars(text: str) -> tuple[str, int | None, str]:
    """(district, year, title) of a notice: 济宁市兖州区 / 2026 / 区政府十件民生实事 ("" or None when absent)."""
    lines = [compact(l).lstrip("#*") for l in text.split("\n") if l.strip()]
    district = ""
    for l in lines[:60]:
        m = re.match(r"^([\u4e00-\u9fff]{1,16}?(?:自治区|自治州|自治县|新区|区|县|市|旗))(?:人民政府|政府)", l)
        if m and not m.group(1).startswith(("各", "区政府", "县政府", "市政府")):
            district = re.sub(r"^中共.*?委", "", m.group(1))  # 中共X县委X县人民政府 → X县
            break
    district = district or _place_in_text(text)
    year = None
    past = r"(?:过去的|去年|上一?年度?|回顾)"  # 刚刚过去的2020年: the year before the one the list is for
    for l in lines[:60]:
        m = next((m for m in re.finditer(r"((?:19|20)\d{2})年", l)
                  if not re.search(past + r"$", l[max(0, m.start() - 4):m.start()])), None)
        if m and ("实事" in l or "民生" in l or "关于" in l):
            year = int(m.group(1))
            break
    if year is None:
        m = re.search(r"[〔\[(（]((?:19|20)\d{2})[〕\])）]", text)
        m_past = re.search(past + r"((?:19|20)\d{2})年", text)
        if m:
            year = int(m.group(1))
        elif m_past and "今年" in text:
            year = int(m_past.group(1)) + 1  # …过去的2020年…今年…: 2021
        else:
            m = re.search(r"((?:19|20)\d{2})年", text)
            year = int(m.group(1)) if m else None
    title = ""
    candidates = [l for l in lines if _is_title_line(l)]
    candidates += [re.sub(r"^附件\d*[:：]", "", l) for l in lines if l.startswith("附件") and "实事" in l]
    for l in candidates:
        t = re.sub(r"^(?:(?:19|20)\d{2}年度?)", "", l)
        t = re.sub(r"(?:项目清单|项目表|项目|清单|一览表|任务分解表|安排|计划|表)$", "", t)
        if 4 <= len(t) <= 30:
            title = t
            break
    if not title:
        m = re.search(r"关于(?:印发|办好)?(?:(?:19|20)\d{2}年)?(.{2,30}?)的通知", "".join(lines[:40]))
        title = re.sub(r"(?:项目清单|项目|清单)$", "", m.group(1)) if m else ""
    return district, year, title


# ================================================================== import


def _resolve(pieces: list[_Piece], directory: Directory) -> tuple[list[str], list[str], list[str]]:
    """(as displayed: full names, group words kept; every member unit's full name; names not in the directory)."""
    shown: list[str] = []
    members: list[str] = []
    unknown: list[str] = []
    for p in pieces:
        name = p.text.replace("(牵头)", "")
        res = directory.resolve(name)
        if res.kind == "unknown":
            for prefix in ("区", "县", "市"):
                alt = directory.resolve(prefix + name)
                if alt.kind != "unknown":
                    res = alt
                    break
        if res.kind == "unknown":
            unknown.append(name)
            shown.append(name)
            continue
        shown.append(name if res.kind == "group" else res.units[0].name)
        members += [u.name for u in res.units if u.name not in members]
    return list(dict.fromkeys(shown)), members, unknown


def _assign_leads(indicators: list[Indicator], content: str, leads: list[str], lead_pieces: list[_Piece],
                  directory: Directory) -> list[Indicator]:
    """With N lead units and content in exactly N parts (①…②…), the targets of part k go to lead k: notices list
    the leads in the order of the parts they answer for. Otherwise every target stays with the first lead."""
    named = [directory.resolve(p.text.replace("(牵头)", "")) for p in lead_pieces]
    if len(leads) < 2 or any(res.kind not in ("unit", "alias") for res in named):
        return indicators
    text = _tight(normalize_line(content))
    parts = [m.start() for m in re.finditer(r"[①-⑳]", text)]
    if len(parts) != len(leads):
        return indicators
    out: list[Indicator] = []
    pos = 0
    for i in indicators:
        at = text.find(i.text, pos)
        pos = at if at >= 0 else pos
        k = max((n for n, start in enumerate(parts) if start <= pos), default=0)
        out.append(replace(i, lead=leads[k], note=(i.note + "；" if i.note else "") + "责任单位按①②顺序对应牵头单位，请核对"))
    return out


def _latest_month(due: str) -> int | None:
    """The month a 完成时限 cell gives, read as a date; with several (sub-tasks, 1.2021年8月 2.2021年12月), the
    latest — a project is done when its last part is."""
    s = _tight(normalize_text(due))
    months = [int(m.group(2)) for m in re.finditer(r"((?:19|20)\d{2})[-/.年](\d{1,2})(?!\d)", s)]
    rest = re.sub(r"(?:19|20)\d{2}[-/.年]\d{1,2}(?!\d)", "", s)
    months += [int(m.group(1)) for m in re.finditer(r"(?<![\d.])(\d{1,2})月", rest)]
    months = [m for m in months if 1 <= m <= 12]
    return max(months) if months else parse_due_month(due)


_COUNT_IN_TITLE = re.compile(r"([一二三四五六七八九十]{1,3}|\d{1,2})(?:件|项|大)(?:民生)?实事")


def import_notice(path: Path, directory: Directory, *, district: str = "", year: int | None = None) -> ImportResult:
    """Read a published notice (.docx, .md, .txt, .xlsx, .csv) into a project list with quantitative indicators.

    Units are resolved against ``directory`` (full names, aliases, group words such as 各镇街); names it does not
    know are listed in ``unresolved``. Every problem in the notice is a finding: an unreadable file, no projects,
    an indicator that needs a person's check (``review``), a unit not in the directory.
    """
    fname = path.name
    source = read_notice(path)
    findings = list(source.findings)
    found_district, found_year, title = notice_particulars(source.text)
    district, year = district or found_district, year or found_year  # what the user gave wins
    if not source.records:
        if not findings:
            findings.append(finding(
                "notice-no-projects",
                "没有在通知中找到项目。请确认附件中有项目表格（表头含“项目名称”“牵头单位”等），或项目按“一、”“1.”"
                "等编号逐条列出；也可以直接填写 项目清单.xlsx。", file=fname))
        return ImportResult(ProjectList(source=fname), findings, district, year, title, [], source.layout)

    numbers = [r.number for r in source.records]
    restarted = any(a is not None and b is not None and b <= a for a, b in zip(numbers, numbers[1:]))
    if None in numbers or len(set(numbers)) != len(numbers) or numbers != sorted(numbers):  # type: ignore[type-var]
        findings.append(finding("notice-number-irregular",
                                "通知中的项目序号缺失、重复或顺序不对，已按出现顺序重新编号为 1、2、3……，请核对。",
                                file=fname))
        for k, r in enumerate(source.records, start=1):
            r.number = k
    elif numbers != list(range(1, len(numbers) + 1)):
        # A gap usually means a project was not recognised: the numbers are kept so they still match the notice.
        missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))  # type: ignore[arg-type]
        findings.append(finding("notice-number-irregular",
                                f"没有识别出第 {'、'.join(map(str, missing))} 号项目，请对照通知核对，并在项目清单中补上。",
                                file=fname))

    projects: list[Project] = []
    unresolved: list[str] = []
    for r in source.records:
        number = int(r.number or 0)
        lead_pieces = _unit_pieces(r.lead, directory)
        co_pieces = _unit_pieces(r.co, directory)
        tagged = [p for p in lead_pieces if "(牵头)" in p.text]
        if tagged:  # 责任单位：区教体局（牵头）、区财政局
            co_pieces = [p for p in lead_pieces if p not in tagged] + co_pieces
            lead_pieces = tagged
        elif not r.co_labelled and len(lead_pieces) > 1 and not co_pieces:
            # A single 责任单位 list: by the usual convention the unit named first leads.
            lead_pieces, co_pieces = lead_pieces[:1], lead_pieces[1:]
        lead_shown, leads, lead_unknown = _resolve(lead_pieces, directory)
        co_shown, co_members, co_unknown = _resolve(co_pieces, directory)
        for name in lead_unknown + co_unknown:
            if name not in unresolved:
                unresolved.append(name)
                if not directory.units:
                    continue  # told once below
                hint = directory.suggest(name)
                tip = f"您是否指「{'」或「'.join(hint)}」？" if hint else ""
                findings.append(finding("unit-unresolved",
                                        f"第 {number} 号项目的单位「{name}」不在单位名录中。{tip}请把它（全称或简称）加入"
                                        "单位名录，或在项目清单中改为名录中的名称。", file=fname, cell=r.place))
        if not lead_shown:
            findings.append(finding("notice-project-no-lead",
                                    f"第 {number} 号项目「{r.name}」没有识别出牵头单位，请在项目清单中补填。",
                                    file=fname, cell=r.place))
        found = extract_indicators(r.content, number)
        if r.name and _tight(r.name) not in _tight(r.content):
            # A target written only in the name cell (项目名称: 新建城区幼儿园3所) is a target too.
            have = {(i.target, i.unit) for i in found}
            found += [i for i in extract_indicators(r.name, number) if (i.target, i.unit) not in have]
            found = [replace(i, number=k) for k, i in enumerate(found, start=1)]
        indicators, milestones = split_milestones(found, number)
        indicators = _assign_leads(indicators, r.content, leads, lead_pieces, directory)
        for i in indicators:
            if i.review:
                findings.append(finding("indicator-needs-review",
                                        f"第 {number} 号项目的指标「{i.name} {i.target_text}」（原文“{i.text}”）识别可能"
                                        "不准确，已标为待核对，请对照通知核对目标值、计量单位和比较方式。",
                                        file=fname, cell=r.place))
            elif i.kind_doubtful:
                findings.append(finding("indicator-kind-doubtful",
                                        f"第 {number} 号项目的指标「{i.name} {i.target_text}」按“{i.measure_kind}”填报，"
                                        f"这是推断的，不一定准确，已标为待核对。请在项目清单「指标」表的“指标类型”一栏"
                                        "确认或改为：累计数、比率、上限、节点。", file=fname, cell=r.place))
        if not indicators:  # every item is kept, with the notice's number; one with no target is said
            findings.append(finding("notice-no-indicators",
                                    f"第 {number} 号项目「{r.name}」没有识别出量化指标（如“新建 10 家”）。如通知中有，"
                                    "请在项目清单的「指标」表中补填；没有则按总体进度填报。", file=fname, cell=r.place))
        due = _latest_month(r.due) if r.due else None
        if due is None or not 1 <= due <= 12:
            due = due_month_from_text(r.content)
        projects.append(Project(
            number=number, name=r.name, content=r.content, leads=tuple(leads),
            co_units=tuple(u for u in co_members if u not in leads), lead_text="、".join(lead_shown),
            co_text="、".join(n for n in co_shown if n not in lead_shown), due_month=due,
            indicators=tuple(indicators), milestones=tuple(sorted(milestones, key=lambda m: m.month))))

    if unresolved and not directory.units:
        findings.append(finding("unit-unresolved",
                                f"没有单位名录，{len(unresolved)} 个单位均未解析：{'、'.join(unresolved)}。请用 --units 指定"
                                "单位名录.xlsx，或在工作区中运行，以便把简称解析为全称、把“各镇街”展开为各镇街道。",
                                file=fname))
    if not district or year is None:
        missing = "、".join(w for w, ok in (("区县名称", district), ("年度", year is not None)) if not ok)
        findings.append(finding("notice-place-unknown",
                                f"没有从通知中识别出{missing}。导入时请用 --district 区县名称 / --year 年度 指定"
                                "（init 时写入 shixiang.toml，之后也可在其中修改）。", file=fname))
    stated = _COUNT_IN_TITLE.search(title) or _COUNT_IN_TITLE.search(source.text[:2000])
    if stated:
        import cn2an

        try:
            count = int(cn2an.cn2an(stated.group(1), "smart"))
        except (ValueError, KeyError, IndexError):
            count = 0
        if count and count != len(projects) and not restarted:  # lists restarting under headings state one count each
            findings.append(finding("notice-project-count",
                                    f"通知说有 {count} 件实事，但识别出 {len(projects)} 个项目。请对照通知核对是否有项目"
                                    "漏识别或被拆开。", file=fname))
    return ImportResult(ProjectList(tuple(projects), source=fname), findings, district, year, title, unresolved,
                        source.layout)


# ================================================================== for the command line


def units_for_import(units_path: Path | None, workspace: Path) -> tuple[Directory, list[Finding]]:
    """The unit directory names are resolved against: ``units_path``, else the workspace's 单位名录.xlsx, else none
    (every unit is then reported as unresolved, which is still a useful list to start the directory from)."""
    from .units import load_directory

    path = units_path or workspace / "单位名录.xlsx"
    if path.exists():
        return load_directory(path)
    return Directory(), []


def import_json(result: ImportResult) -> dict:
    """The import as plain data: {"projects": [{number, name, content, lead, co_units, indicators: […]}], …}.

    ``lead`` is the lead unit named first (the one answerable when several lead), ``leads`` every lead unit,
    ``co_units`` the co-units as written after resolution (full names; group words such as 各镇街 kept as the group).
    """
    def names(text: str) -> list[str]:
        return [n for n in text.split("、") if n]

    return {
        "district": result.district, "year": result.year, "title": result.title, "layout": result.layout,
        "projects": [{
            "number": p.number, "name": p.name, "content": p.content, "lead": (names(p.lead_text) or [""])[0],
            "leads": names(p.lead_text), "co_units": names(p.co_text), "due_month": p.due_month,
            "indicators": [{"name": i.name, "value": i.target, "unit": i.unit, "comparator": i.comparator,
                            "text": i.text, "review": i.review} for i in p.indicators],
            "milestones": [{"month": m.month, "percent": m.percent} for m in p.milestones],
        } for p in result.projects.projects],
        "unresolved": list(result.unresolved),
    }


def _check_lines(result: ImportResult) -> list[str]:
    """Per project, what was found and what a person must check: every 待核对 indicator, a missing lead, no
    quantitative target, dated steps put in 时间节点."""
    out = []
    for p in result.projects.projects:
        found = [f"牵头 {p.lead_text}" if p.lead_text else "未识别出牵头单位",
                 f"指标 {len(p.indicators)} 个" if p.indicators else "没有量化指标（按总体进度填报）"]
        if p.due_month:
            found.append(f"{p.due_month}月完成")
        if p.milestones:
            found.append("时间节点 " + "、".join(f"{m.month}月{format_number(m.percent)}%" for m in p.milestones))
        review = [f"{i.name} {i.target_text}" + ("" if i.review else f"（类型：{i.measure_kind}）")
                  for i in p.indicators if i.review or i.kind_doubtful]
        line = f"  {p.number}. {p.name}：{'；'.join(found)}"
        if review:
            line += f"；待核对：{'、'.join(review)}"
        out.append(line)
    if not result.district or result.year is None:
        out.append("  区县名称或年度未识别：请用 --district / --year 指定。")
    return out


def render_import(result: ImportResult) -> str:
    """The printed summary: projects with their units, the indicators, and the totals."""
    from .render import render_table

    plist = result.projects
    head = f"{result.district or '（未识别区县）'} {result.year or ''} {result.title}".strip()
    rows = [[p.number, p.name, p.lead_text, p.co_text or "—", len(p.indicators),
             f"{p.due_month}月" if p.due_month else ""] for p in plist.projects]
    out = [head, "", render_table(["序号", "项目名称", "牵头单位", "协办单位", "指标数", "完成时间"], rows, max_width=40)]
    rows = [[i.project, i.name, i.target_text, "待核对" if i.review or i.kind_doubtful else "", i.text]
            for i in plist.indicators]
    if rows:
        out += ["", render_table(["项目", "指标名称", "目标值", "核对", "原文"], rows, max_width=44)]
    check = _check_lines(result)
    if check:
        out += ["", "请逐项核对（约一分钟）：", *check]
    n_review = sum(1 for i in plist.indicators if i.review or i.kind_doubtful)
    out += ["", f"共识别 {len(plist.projects)} 个项目、{len(plist.indicators)} 个量化指标（其中 {n_review} 个待核对）；"
                f"未解析的单位 {len(result.unresolved)} 个" + (f"：{'、'.join(result.unresolved)}" if result.unresolved
                                                        else "。")]
    return "\n".join(out)
