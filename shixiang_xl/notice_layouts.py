"""Finding the list of projects in a notice's text, whatever way it is written.

Real notices list their projects in many ways: numbered lines (一、 / （一） / 1. / 1、 / 1。 / 1 text / (1) / ① / 01 /
一是), bullets (● ▶ *), items inline in one paragraph ((1)…(2)…, 一是…二是…), clauses separated by ；after 分别是 /
包括 / 为, 《…》 titles in one sentence, bare short lines under a heading, one paragraph per item after 如下：, and
tables extracted from PDFs or web pages one cell per line (cells ended by `|`, or separated by blank lines).

Each reader proposes a candidate list; :func:`find_items` keeps the candidate that fits the notice best (the number of
projects the notice states, the items that name a unit or hold a target). Everything here is a pure function of the
notice's normalised lines; nothing names a place, a project or a notice.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

_CN_DIGITS = "一二三四五六七八九十"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def cn_number(s: str) -> int | None:
    """一 → 1, 十二 → 12, 二十 → 20 (the numerals item markers use); None for anything else."""
    if not s or any(c not in _CN_DIGITS for c in s) or len(s) > 3:
        return None
    if s == "十":
        return 10
    if "十" in s:
        left, _, right = s.partition("十")
        tens = _CN_DIGITS.index(left) + 1 if left else 1
        ones = _CN_DIGITS.index(right) + 1 if right else 0
        return tens * 10 + ones if "十" not in right else None
    return _CN_DIGITS.index(s) + 1 if len(s) == 1 else None


# Line-start item markers: (kind, pattern whose group 1 is the number). A bullet has no number.
LINE_MARKERS: dict[str, re.Pattern[str]] = {
    "一、": re.compile(r"^([一二三四五六七八九十]{1,3})\s*[、.．]\s*"),
    "（一）": re.compile(r"^[（(]([一二三四五六七八九十]{1,3})[)）]\s*"),
    "一是": re.compile(r"^([一二三四五六七八九十]{1,3})是\s*"),
    "第一": re.compile(r"^第([一二三四五六七八九十]{1,3})(?:项|件|条)\s*[、:：，,.]?\s*"),
    "1.": re.compile(r"^(\d{1,2})\s*[、.．。](?!\d)\s*"),
    "（1）": re.compile(r"^[（(](\d{1,2})[)）]\s*"),
    "1）": re.compile(r"^(\d{1,2})[)）]\s*"),
    "①": re.compile(r"^([①-⑳])\s*"),
    "01": re.compile(r"^(0[1-9]|[1-9]\d?)\s+(?=[^\d\s%月年日号时点个万])|^(0[1-9])(?=[\u4e00-\u9fff])"),
    "•": re.compile(r"^[●▶►•■◆◇○★☆▪*·](?!\*)\s*"),
}
# "3.200户": item 3 glued to its first quantity; accepted only where item 3 is the one expected.
_GLUED = re.compile(r"^(\d{1,2})[.．](?=\d)")

# Inline markers (inside one paragraph): the number is group 1.
INLINE_MARKERS: dict[str, re.Pattern[str]] = {
    "(1)": re.compile(r"[（(](\d{1,2})[)）]"),
    "一是": re.compile(r"(?<![一二三四五六七八九十统唯同就也即还只总])([一二三四五六七八九十]{1,3})是"),
    "①": re.compile(r"([①-⑳])"),
}

_SENTENCE_END = "。；;！？!?"
_CLOSING = re.compile(r"^(?:对以上|以上|上述|[—-]{2}|[（(]?摘自|[（(]?转自|[（(]?本文来源|联系人|联系电话|电话|地址|邮编|附件|抄送|来源|记者|责编|编辑|责任编辑|特约记者|"
                      r"通讯员|原标题|\(完\)|（完）|在做好|此外|另外|同时|各[^，。]{0,8}(?:要|应|须)|"
                      r"(?:[区县市]委|[区县市]政府|[区县市]人大|各级|各部门|各单位|各有关单位|我[区县市])[^，。]{0,4}(?:将|要|会|应)|"
                      r"(?:19|20)\d{2}年\d{1,2}月\d{1,2}日$)")
PROGRESS_LABEL = re.compile(r"^(?:目前进度|当前进度|进展情况|进度情况|工作进展|完成情况|推进情况|目前进展|实施进度|进展)\s*[:：]")
UNIT_LABEL = re.compile(r"^[（(]?\s*(?:牵头单位|责任单位|主办单位|牵头部门|责任部门|主责单位|承办单位|协办单位|配合单位|"
                         r"协同单位|配合部门|协办部门|参与单位|协作单位|计划完成时间|完成时限|完成时间|完成期限|时间节点)\s*[:：]")


def marker_number(kind: str, line: str) -> int | None:
    """The item number ``line`` starts with in marker style ``kind`` (bullets give 0), or None."""
    m = LINE_MARKERS[kind].match(line)
    if not m:
        return None
    if kind == "•":
        return 0
    g = next(x for x in m.groups() if x)
    if g in _CIRCLED:  # before isdigit(): "①".isdigit() is True
        return _CIRCLED.index(g) + 1
    if g.isdigit():
        return int(g)
    if g in _CIRCLED:
        return _CIRCLED.index(g) + 1
    return cn_number(g)


def strip_marker(kind: str, line: str) -> str:
    return LINE_MARKERS[kind].sub("", line, count=1).strip()


@dataclass
class Item:
    """One item of a list: its own number in the notice, its text lines, and the line it starts on."""

    number: int
    lines: list[str]
    line: int
    heading: str = ""  # the group heading above it, where a list restarts under headings


@dataclass
class Candidate:
    kind: str
    items: list[Item] = field(default_factory=list)
    rank: int = 0  # lower is preferred on a tie


def stated_count(text: str) -> int | None:
    """The number of projects the notice says it has (十件实事, 10大民生实事, 39个为民办实事项目): the count said most often."""
    counts: Counter[int] = Counter()
    for m in re.finditer(r"([一二三四五六七八九十]{1,3}|\d{1,3})\s*(?:件|项|大|个)(?:[^，。；,;\n\d]{0,8}?)(?:实事|项目)", text):
        g = m.group(1)
        n = int(g) if g.isdecimal() else cn_number(g)
        if n and 2 <= n <= 60:
            counts[n] += 1
    if not counts:
        return None
    best = max(counts.values())
    return max(n for n, c in counts.items() if c == best)


def furniture(lines: list[str]) -> set[str]:
    """Lines repeated in the text (captions, page headers) that are not items: compared without spaces."""
    seen = Counter(re.sub(r"\s+", "", l) for l in lines
                   if l.strip() and not UNIT_LABEL.match(l.strip())
                   and not any(marker_number(k, l.strip()) is not None for k in LINE_MARKERS))
    return {s for s, c in seen.items() if c >= 2 and len(s) >= 6}


# ------------------------------------------------------------------ line-marker lists


def _line_list(body: list[str], kind: str, outer: list[str]) -> Candidate:
    cand = Candidate(kind)
    expected = 1
    pending_heading = ""
    closed = False
    for i, line in enumerate(body):
        n = marker_number(kind, line)
        glued = None
        if n is None and kind == "1.":
            # Only after a finished sentence: a wrapped line may start with a decimal (…改造\n2.5万平方米).
            g = _GLUED.match(line)
            prev = next((body[j] for j in range(i - 1, -1, -1) if body[j]), "")
            glued = int(g.group(1)) if g and int(g.group(1)) == expected and re.search(r"[。；;！!？?:：]$", prev) \
                else None
        if kind == "•" and n is not None:
            n = expected
        if glued is not None:
            cand.items.append(Item(glued, [line[g.end():].strip()], i, pending_heading))  # type: ignore[union-attr]
            expected, closed = glued + 1, False
            continue
        if n is not None and (n == expected or (n == 1 and cand.items)):
            text = strip_marker(kind, line)
            if n == 1 and cand.items and not closed and len(cand.items[-1].lines) > 1:
                # The numbering restarts: the line before is the new group's heading (为城镇居民办好十件实事),
                # not part of the item above it.
                pending_heading = cand.items[-1].lines.pop()
            if text or kind != "•":
                cand.items.append(Item(n, [text], i, pending_heading if n == 1 else ""))
                expected, closed, pending_heading = n + 1, False, ""
                continue
        if not cand.items or not line:
            if line and not cand.items:
                pending_heading = line
            continue
        if any(marker_number(o, line) is not None for o in outer):
            closed = True  # an outer heading (二、城市建设类) ends the item
            pending_heading = line
            continue
        if not closed:
            cand.items[-1].lines.append(line)
        else:
            pending_heading = line
    return cand


def _restart_groups_ok(cand: Candidate, has_unit: Callable[[list[str]], bool],
                       has_target: Callable[[str], bool]) -> Candidate:
    """A list whose numbering restarts at 1 continues only under a heading that names projects (…实事, …类, 二、…工程)
    or with items like the first group's (naming units or holding targets as often): 二、工作要求 with its (一)(二) ends it."""
    groups: list[list[Item]] = []
    for it in cand.items:
        if it.number == 1 or not groups:
            groups.append([])
        groups[-1].append(it)
    if len(groups) <= 1:
        return cand

    def rate(g: list[Item]) -> float:
        return sum(has_unit(it.lines) or has_target("".join(it.lines)) for it in g) / len(g)

    kept = groups[0]
    first_rate = rate(groups[0])
    for g in groups[1:]:
        head = re.sub(r"\s+", "", g[0].heading)
        named = bool(re.search(r"实事|项目|类$|工程$|方面$|领域$|民生|[（(]\d+件[)）]$", head))
        if named or (first_rate >= 0.5 and rate(g) >= 0.5):
            kept = kept + g
        else:
            break
    return Candidate(cand.kind, kept, cand.rank)


def _trim_items(cand: Candidate) -> Candidate:
    """Cut what follows the list out of its last item (a closing paragraph, the reporter's name), and every
    continuation of items that are one line each (a heading or caption between them is not part of an item)."""
    if not cand.items:
        return cand
    extra = [len([l for l in it.lines[1:] if not UNIT_LABEL.match(l)]) for it in cand.items]
    single = len(cand.items) >= 3 and sum(1 for e in extra[:-1] if e == 0) >= 2 * max(1, len(extra) - 1) / 3
    if single:
        for it in cand.items:
            it.lines = it.lines[:1] + [l for l in it.lines[1:] if UNIT_LABEL.match(l)]
    last = cand.items[-1]
    earlier = sorted(extra[:-1])
    cap = max(earlier[len(earlier) // 2], 1) if earlier else 99
    kept = last.lines[:1]
    for l in last.lines[1:]:
        if _CLOSING.match(l):
            break
        kept.append(l)
    unit_lines = [l for l in kept[1:] if UNIT_LABEL.match(l)]
    other = [l for l in kept[1:] if not UNIT_LABEL.match(l)][:cap if len(kept) - 1 > cap + 1 else None]
    last.lines = kept[:1] + [l for l in kept[1:] if l in unit_lines or l in other]
    return cand


# ------------------------------------------------------------------ inline lists


def _paragraphs(body: list[str]) -> list[tuple[int, str]]:
    """Paragraphs: lines joined where a line breaks inside a sentence (no sentence end or colon at its end)."""
    out: list[tuple[int, str]] = []
    cur: list[str] = []
    start = 0
    for i, line in enumerate(body):
        if not line:
            if cur:
                out.append((start, "".join(cur)))
                cur = []
            continue
        if not cur:
            start = i
        cur.append(line)
        if re.search(r"[。！？!?:：]$", line):
            out.append((start, "".join(cur)))
            cur = []
    if cur:
        out.append((start, "".join(cur)))
    return out


def _inline_list(paragraphs: list[tuple[int, str]], kind: str) -> Candidate:
    best = Candidate(kind, rank=20)
    pat = INLINE_MARKERS[kind]
    for start, text in paragraphs:
        marks: list[tuple[int, int, int]] = []  # (start, end, number)
        expected = 1
        for m in pat.finditer(text):
            g = m.group(1)
            n = _CIRCLED.index(g) + 1 if g in _CIRCLED else (int(g) if g.isdecimal() else cn_number(g))
            if n == expected:
                marks.append((m.start(), m.end(), n))
                expected += 1
        if len(marks) < 3 or len(marks) <= len(best.items):
            continue
        items = []
        for k, (a, b, n) in enumerate(marks):
            stop = marks[k + 1][0] if k + 1 < len(marks) else len(text)
            seg = text[b:stop]
            if k + 1 == len(marks):
                end = re.search(r"[。！？!?]", seg)
                seg = seg[:end.end()] if end else seg
            items.append(Item(n, [seg.strip(" ；;，,")], start))
        best = Candidate(kind, items, rank=20)
    return best


_LIST_INTRO = re.compile(r"(?:分别是|分别为|包括|主要有|具体是|具体为|如下|主要是|依次是|为)\s*[:：]?")


def _semicolon_list(paragraphs: list[tuple[int, str]]) -> Candidate:
    """Clauses separated by ；after 分别是 / 包括 / 为 …, in one sentence: each clause is an item."""
    best = Candidate("；", rank=30)
    for start, text in paragraphs:
        for sentence in re.split(r"[。！？!?]", text):  # each sentence once: linear in the text's length
            first_cut = min((i for i in (sentence.find("；"), sentence.find(";")) if i >= 0), default=-1)
            if first_cut < 0 or sentence.count("；") + sentence.count(";") < 2:
                continue
            m = None
            for m_intro in _LIST_INTRO.finditer(sentence, 0, first_cut):
                m = m_intro  # the last intro word before the first clause ends (分别是 after 为民办…)
            if m is None:
                continue
            parts = [p.strip(" ，,") for p in re.split(r"[；;]", sentence[m.end():]) if p.strip(" ，,")]
            if len(parts) >= 3 and len(parts) > len(best.items):
                best = Candidate("；", [Item(k, [p], start) for k, p in enumerate(parts, start=1)], rank=30)
    return best


def _title_list(paragraphs: list[tuple[int, str]]) -> Candidate:
    """《…》《…》: three or more book-title names in a row, each one an item."""
    best = Candidate("《》", rank=35)
    for start, text in paragraphs:
        for m in re.finditer(r"(?:《[^《》]{2,60}》[、，,和及]?){3,}", text):
            names = re.findall(r"《([^《》]{2,60})》", m.group())
            if len(names) > len(best.items):
                best = Candidate("《》", [Item(k, [n], start) for k, n in enumerate(names, start=1)], rank=35)
    return best


def _short_line_list(body: list[str]) -> Candidate:
    """Bare short lines (names only) under a heading that names the projects: three or more in a row."""
    best = Candidate("lines", rank=40)
    i = 0
    while i < len(body):
        run: list[int] = []
        j = i
        while j < len(body) and body[j] and len(body[j]) <= 30 and not re.search(r"[，。；,;:：!！?？]", body[j]) \
                and not re.fullmatch(r"[（(].*[)）]", body[j]):
            run.append(j)
            j += 1
        if len(run) >= 3:
            head = next((body[h] for h in range(i - 1, max(-1, i - 4), -1) if body[h]
                         and not re.fullmatch(r"[（(].*[)）]", body[h])), "")
            if re.search(r"实事|项目", head) and len(run) > len(best.items):
                best = Candidate("lines", [Item(k, [body[r]], r) for k, r in enumerate(run, start=1)], rank=40)
        i = max(j, i + 1)
    return best


def _paragraph_list(body: list[str]) -> Candidate:
    """One paragraph per item after a line ending with 如下： / ：, each paragraph a sentence or more."""
    best = Candidate("paragraphs", rank=45)
    scanned = -1
    for i, line in enumerate(body):
        if i <= scanned:
            continue  # inside a run already read: each line is scanned once
        if not re.search(r"(?:如下|下列|以下)[^，。]{0,6}[:：]$|[:：]$", line):
            continue
        run: list[int] = []
        for j in range(i + 1, len(body)):
            if not body[j]:
                continue
            if _CLOSING.match(body[j]) or not re.search(r"[，。；,;]", body[j]):
                break
            run.append(j)
        scanned = run[-1] if run else i
        marked = sum(1 for r in run if any(marker_number(k, body[r]) is not None for k in LINE_MARKERS))
        if len(run) >= 3 and len(run) > len(best.items) and marked < len(run) / 2:  # else a numbered list
            best = Candidate("paragraphs", [Item(k, [body[r]], r) for k, r in enumerate(run, start=1)], rank=45)
    return best


# ------------------------------------------------------------------ choosing


def find_items(lines: list[str], has_unit: Callable[[list[str]], bool], has_target: Callable[[str], bool],
               stated: int | None) -> Candidate:
    """The notice's list of projects: the best of every reading above.

    A reading that fits the number of projects the notice states wins; then the one whose items most often name a
    lead unit, then hold a target; then line markers before inline ones, bullets, clauses and bare lines.
    """
    rep = furniture(lines)
    body = ["" if re.sub(r"\s+", "", l) in rep else l.strip() for l in drop_progress_blocks(lines)]
    body = ["" if re.fullmatch(r"!\[[^\]]*\]\([^)]*\)", l) else l for l in body]  # an image in markdown
    order = sorted(LINE_MARKERS, key=lambda k: next((i for i, l in enumerate(body) if marker_number(k, l) in (1, 0)),
                                                     len(body)))
    cands: list[Candidate] = []
    for depth, kind in enumerate(order):
        cand = _line_list(body, kind, order[:depth])
        cand.rank = depth
        cand = _restart_groups_ok(cand, has_unit, has_target)
        cands.append(_trim_items(cand))
    paras = _paragraphs(body)
    cands += [_inline_list(paras, k) for k in INLINE_MARKERS]
    cands += [_semicolon_list(paras), _title_list(paras), _short_line_list(body), _paragraph_list(body)]
    cands = [c for c in cands if len(c.items) >= 2]
    if not cands:
        return Candidate("")

    return max(cands, key=lambda c: score_candidate(c, has_unit, has_target, stated))


def score_candidate(c: Candidate, has_unit: Callable[[list[str]], bool], has_target: Callable[[str], bool],
                    stated: int | None) -> tuple:
    """How well a reading fits: closeness to the stated count, items naming a unit, items with a target, style."""
    n = len(c.items)
    heads = [it.heading for it in c.items if it.number == 1]
    if len(heads) >= 2 and all(stated_count(h) for h in heads):
        stated = sum(stated_count(h) or 0 for h in heads)  # 为农民办好十件实事 … 为城镇居民办好十件实事: two lists
    labelled = sum(1 for it in c.items if has_unit(it.lines))
    targets = sum(1 for it in c.items if has_target("".join(it.lines)))
    fit = -abs(n - stated) if stated else 0
    # Items naming their own unit, as a share: categories holding labelled items tie with them (then the level with
    # more targeted items wins), but sub-steps under labelled projects lose to the projects.
    return (fit, round(labelled / n, 1) if n else 0, targets, -c.rank, n)


def drop_progress_blocks(lines: list[str]) -> list[str]:
    """Blank out 目前进度：… blocks (to the next item, label or 目标任务 line): progress is never part of the list."""
    out = list(lines)
    inside = False
    for i, line in enumerate(lines):
        s = line.strip()
        if PROGRESS_LABEL.match(s):
            inside = True
        elif inside and (UNIT_LABEL.match(s) or any(marker_number(k, s) is not None for k in LINE_MARKERS)
                         or re.match(r"^(?:目标任务|主要内容|建设内容|工作目标|任务目标)\s*[:：]", s)):
            inside = False
        if inside:
            out[i] = ""
    return out


def progress_sentence(sentence: str) -> bool:
    """A sentence that reports progress (上半年已完成…, 累计解决…, 目前正在…), not a target."""
    return bool(re.search(r"^(?:上半年|目前|截至|截止|今年以来|\d{1,2}[-—至]\d{1,2}月|\d{1,2}月份|累计|全年累计)|已(?:提前|全部|基本|顺利)?(?:完成|建成|开工|完工|"
                          r"全部|基本|解决|实现|下达|发放|投入|有|累计|竣工|通过|启动|争取)|累计(?:完成|解决|下达)|正在|完成率|"
                          r"占(?:全年|总)?(?:计划|目标|任务)", sentence))


# ------------------------------------------------------------------ tables one cell per line


def cell_table_rows(lines: list[str], header_key: Callable[[str], tuple[str, int] | None]) -> list[list[str]]:
    """Rows of a table extracted one cell per line: cells ended by `|` (web mirrors) or separated by blank lines
    (PDF and web copies). Found by its heading row written one heading per cell; a row starts at a 序号 cell
    holding the next number; cells beyond a full row are a continuation row whose leftmost cells were merged.
    Returns [heading row, row, …], or [] when there is no such table."""
    stripped = [l.strip() for l in lines]
    piped = sum(1 for l in stripped if l.endswith("|")) >= max(6, len([l for l in stripped if l]) // 4)
    cells: list[tuple[int, str]] = []  # (line index, cell text)
    if piped:
        cur: list[str] = []
        in_table = False  # the last line ended a cell: a line without `|` is the start of a wrapped cell
        for i, l in enumerate(stripped):
            if re.fullmatch(r"\|{2,}", l):
                cur, in_table = [], True
                continue
            if l.endswith("|"):
                cur.append(l[:-1].strip())
                cells.append((i, "\n".join(x for x in cur if x)))
                cur, in_table = [], True
            elif l and in_table:
                cur.append(l)
            elif l:
                cells.append((i, l))  # text before the table: a cell of its own
    else:
        cur = []
        start = 0
        for i, l in enumerate(stripped + [""]):
            if l:
                if not cur:
                    start = i
                cur.append(l)
            elif cur:
                cells.append((start, "\n".join(cur)))
                cur = []
        if sum(1 for _, c in cells if "\n" not in c) < len(cells) * 0.6:
            # Paragraphs, not cells; or no blank lines at all: each line a cell, accepted only where every row
            # then has exactly as many cells as the heading (a cell broken over two lines would shift the row).
            cells = [(i, l) for i, l in enumerate(stripped) if l]
            return _rows_from_cells(cells, header_key, strict=True)
    return _rows_from_cells(cells, header_key, strict=False)


def _rows_from_cells(cells: list[tuple[int, str]], header_key: Callable[[str], tuple[str, int] | None],
                     strict: bool) -> list[list[str]]:
    """Rows from a stream of cells, from its heading row on (see :func:`cell_table_rows`)."""
    # The heading row: consecutive short cells, at least three of them headings, with a name or content heading.
    best: tuple[int, int] | None = None
    for a in range(len(cells)):
        b = a
        keys = []
        while b < len(cells) and cells[b][1] and len(re.sub(r"\s+", "", cells[b][1])) <= 16 \
                and not re.search(r"[，。；]", cells[b][1]) and not re.fullmatch(r"[\d.、]+", cells[b][1].strip()):
            k = header_key(cells[b][1]) if cells[b][1] else None
            keys.append(k[0] if k else None)
            b += 1
            if b - a > 12:
                break
        known = [k for k in keys if k]
        if len(known) >= 3 and ("name" in known or "content" in known) and keys[0] is not None:
            best = (a, b)
            break
    if best is None:
        return []
    a, b = best
    header = [c for _, c in cells[a:b]]
    width = len(header)
    number_col = next((k for k, c in enumerate(header) if (header_key(c) or ("",))[0] == "number"), None)
    rows: list[list[str]] = [header]
    stream = [c for _, c in cells[b:]]
    starts: list[int] = []
    expected = 1
    offset = number_col or 0
    for k, c in enumerate(stream):
        s = re.sub(r"\s+", "", c).strip(".、")
        if number_col is not None and s == str(expected) and k >= offset \
                and (not starts or k - starts[-1] >= width - 1):
            starts.append(k - offset)
            expected += 1
    if not starts:
        return []
    if strict and any(starts[n + 1] - starts[n] != width for n in range(len(starts) - 1)):
        return []
    for n, s in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else len(stream)
        chunk = stream[s:stop]
        if strict and n + 1 == len(starts):
            chunk = chunk[:width]  # what follows the last row is not the table's
        rows.append((chunk[:width] + [""] * width)[:width])
        rest = chunk[width:]
        while rest:
            part, rest = rest[:width - offset - 1], rest[width - offset - 1:]
            if not any(part):
                continue
            rows.append([""] * (width - len(part)) + part)
    return rows
