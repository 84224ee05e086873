"""How personal data is shown: enough to recognise, never enough to use."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    """`13812345678` → `138****5678`."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "*" * len(phone)


def mask_id_number(number: str) -> str:
    """`110101198803141119` → `110***********1119`."""
    return f"{number[:3]}{'*' * (len(number) - 7)}{number[-4:]}" if len(number) > 7 else "*" * 7


# Two-character family names: kept whole when a name is masked, as people read them as one unit.
COMPOUND_SURNAMES = frozenset((
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
    "宇文", "司徒", "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "百里",
    "呼延", "闻人", "申屠", "太史", "澹台", "公冶", "赫连", "万俟", "单于", "钟离",
    "宗政", "濮阳", "淳于", "公羊", "拓跋", "第五", "东郭", "梁丘", "左丘", "谷梁",
    "羊舌", "微生", "鲜于", "闾丘", "亓官", "司空", "司寇", "子车", "颛孙",
))  # fmt: skip


def mask_name(name: str) -> str:
    """`张三` → `*三`; `欧阳锋` → `欧阳*`; `张三丰` → `张**`; `阿依·买买提` → `阿*·***`.

    A two-character name shows only its given name; a longer one only its family name (a
    compound one such as 欧阳 kept whole). Middle dots stay where they are, so the shape of a
    transliterated name is recognisable.
    """
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return f"*{name[1]}"
    kept = 2 if name[:2] in COMPOUND_SURNAMES else 1
    return name[:kept] + "".join(c if c == "\u00b7" else "*" for c in name[kept:])
