from amparo.evaluation.metrics import confusion_matrix, evaluate, grouped


def test_per_label_rates() -> None:
    truth = ["a", "a", "b", "b", "b", "c"]
    pred = ["a", "b", "b", "b", "a", "c"]
    r = evaluate(truth, pred, ["a", "b", "c"])
    assert r.n == 6 and r.accuracy == 4 / 6
    a = r.per_label["a"]
    assert (a.tp, a.fp, a.fn, a.tn) == (1, 1, 1, 3)
    assert a.precision == 0.5 and a.recall == 0.5 and a.fpr == 0.25
    assert r.per_label["c"].f1 == 1.0


def test_unknown_predicted_labels_get_a_row_and_column() -> None:
    m = confusion_matrix(["a"], ["z"], ["a"])
    assert m == {"a": {"a": 0, "z": 1}, "z": {"a": 0, "z": 0}}


def test_no_support_gives_none_not_zero() -> None:
    r = evaluate(["a"], ["a"], ["a", "b"])
    assert r.per_label["b"].recall is None and r.per_label["b"].precision is None


def test_grouped_by_key() -> None:
    items = [("es", "a", "a"), ("es", "a", "b"), ("en", "b", "b")]
    out = grouped(items, lambda i: i[0], lambda i: i[1], lambda i: i[2], ["a", "b"])
    assert out["es"].accuracy == 0.5 and out["en"].accuracy == 1.0
