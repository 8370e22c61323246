import typing as t

TMatchByBank = dict[str, list[dict[str, t.Any]]]
