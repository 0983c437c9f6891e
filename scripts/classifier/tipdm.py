"""What the classifier studies share: the labelled TipDM messages with their near-duplicate
groups, and the title proxy the Rust features use. Data is read from ../shared/data/tipdm2020
(or $JIESU_TIPDM_DIR) at run time; nothing is copied."""
import csv
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("JIESU_TIPDM_DIR") or os.path.normpath(
    os.path.join(HERE, "..", "..", "..", "shared", "data", "tipdm2020"))


def load():
    """(texts, labels, near-duplicate group ids) of classify_train.csv, rows in file order."""
    rows = list(csv.DictReader(open(os.path.join(DATA, "classify_train.csv"), encoding="utf-8")))
    full = list(csv.DictReader(open(os.path.join(DATA, "fujian2_messages_train80.csv"), encoding="utf-8")))
    assert len(full) == len(rows) and all(a["label"] == b["一级标签"] for a, b in zip(rows, full))
    groups = np.array([int(f["近重复组"]) for f in full])
    return [r["text"] for r in rows], np.array([r["label"] for r in rows]), groups


def head(t, k=25):
    """'Title' proxy (features::title): text before the first space if short, else the first k chars."""
    i = t.find(" ")
    return t[:i] if 0 < i <= 60 else t[:k]
