"""Consistency checks the standard format implies; a failed check lists the cells involved, nothing is fixed."""

from __future__ import annotations

from reports.model import Check, Figure
from reports.standard import APPLICANTS, REVIEW_COLS, REVIEW_GROUPS

_OUTCOME_PREFIXES = ("granted", "partial", "refused.", "unable.", "not_processed.", "other")


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def run_checks(figures: list[Figure]) -> list[Check]:
    """新收 + 上年结转 = 办结 + 结转下年; each row's 总计 = its parts; 办结总计 = its outcomes; 复议/诉讼 总计 = parts."""
    values = {f.key: f.value for f in figures}
    labels = {f.key: f.label for f in figures}
    checks: list[Check] = []

    def check(name: str, total_key: str, part_keys: list[str]) -> None:
        if total_key not in values or not part_keys or any(k not in values for k in part_keys):
            return
        parts = sum(values[k] for k in part_keys)
        ok = abs(parts - values[total_key]) < 1e-6
        detail = (
            f"{labels[total_key]} = {_fmt(values[total_key])}，"
            + " + ".join(f"{labels[k]}（{_fmt(values[k])}）" for k in part_keys)
            + f" = {_fmt(parts)}"
        )
        checks.append(Check(name, ok, detail, tuple([total_key, *part_keys])))

    rows = sorted({k.split(".", 1)[1].rsplit(".", 1)[0] for k in values if k.startswith("apply.")})
    for col, col_label in APPLICANTS:
        keys = {name: f"apply.{name}.{col}" for name in ("new", "carried_over", "total", "carry_forward")}
        if all(k in values for k in keys.values()):
            left = values[keys["new"]] + values[keys["carried_over"]]
            right = values[keys["total"]] + values[keys["carry_forward"]]
            checks.append(
                Check(
                    f"收支平衡（{col_label}）",
                    abs(left - right) < 1e-6,
                    f"新收 {_fmt(values[keys['new']])} + 上年结转 {_fmt(values[keys['carried_over']])} = {_fmt(left)}；"
                    f"办理结果总计 {_fmt(values[keys['total']])} + "
                    f"结转下年度 {_fmt(values[keys['carry_forward']])} = {_fmt(right)}",
                    tuple(keys.values()),
                )
            )
        outcomes = [f"apply.{r}.{col}" for r in rows if r.startswith(_OUTCOME_PREFIXES)]
        check(f"办理结果总计等于各项之和（{col_label}）", f"apply.total.{col}", outcomes)
    for row in rows:
        check(
            f"总计列等于各类申请人之和（{labels.get(f'apply.{row}.total', row).split(' / ')[0]}）",
            f"apply.{row}.total",
            [f"apply.{row}.{col}" for col, _ in APPLICANTS[:-1]],
        )
    for group, group_label in REVIEW_GROUPS:
        check(f"{group_label}总计等于各项之和", f"{group}.total", [f"{group}.{col}" for col, _ in REVIEW_COLS[:-1]])
    return checks
