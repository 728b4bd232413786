"""Cross-series reduction (common.proto: Aggregation.Reducer, group_by_fields)."""

from __future__ import annotations

from infradiag.twin.timeseries.aggregation import REDUCERS, Aggregation, GroupField, combine, combined_type
from infradiag.twin.timeseries.alignment import Aligned
from infradiag.twin.timeseries.errors import InvalidArgument, JsonDict, unsupported
from infradiag.twin.timeseries.filters import label_text
from infradiag.twin.timeseries.values import Value


def _group_key(aligned: Aligned, fields: tuple[GroupField, ...]) -> tuple[str | None, ...]:
    # common.proto: group_by_fields "implicitly contains resource.type".
    key: list[str | None] = [aligned.resource.get("type")]
    for field in fields:
        part = aligned.metric if field.part == "metric" else aligned.resource
        value = part.get("type") if field.label is None else (part.get("labels") or {}).get(field.label)
        key.append(None if value is None else label_text(value))
    return tuple(key)


def _kept_part(source: JsonDict, part: str, fields: tuple[GroupField, ...]) -> JsonDict:
    kept: JsonDict = {"type": source.get("type")} if "type" in source else {}
    labels = source.get("labels") or {}
    chosen = {f.label: labels[f.label] for f in fields if f.part == part and f.label in labels}
    if chosen:
        kept["labels"] = chosen
    return kept


def reduce_groups(aligned: list[Aligned], agg: Aggregation) -> list[Aligned]:
    """Apply the cross-series reducer to each group of aligned series."""
    groups: dict[tuple[str | None, ...], list[Aligned]] = {}
    for item in aligned:
        groups.setdefault(_group_key(item, agg.group_by), []).append(item)
    return [_reduce_group(members, agg) for members in groups.values()]


def _reduce_group(members: list[Aligned], agg: Aggregation) -> Aligned:
    first = members[0]
    if agg.reducer == "REDUCE_MEAN" and first.value_type == "DISTRIBUTION":
        raise unsupported("REDUCE_MEAN of DISTRIBUTION values")
    if first.value_type not in REDUCERS[agg.reducer]:
        raise InvalidArgument(f"aggregation: {agg.reducer} is not valid for {first.value_type} values")
    op = agg.reducer.removeprefix("REDUCE_")
    values: dict[int, Value] = {}
    for end in sorted({end for m in members for end in m.values}, reverse=True):
        combined = combine(op, [m.values[end] for m in members if end in m.values], first.value_type)
        if combined is not None:
            values[end] = combined
    return Aligned(
        metric=_kept_part(first.metric, "metric", agg.group_by),
        resource=_kept_part(first.resource, "resource", agg.group_by),
        kind=first.kind,
        value_type=combined_type(op, first.value_type),
        values=values,
    )
