#!/usr/bin/env python3
"""Classifier benchmark (issue #5): Jiesu's classifier beside scikit-learn's TF-IDF + LinearSVC
on the same stratified 80/20 split of ../shared/data/tipdm2020/classify_train.csv: accuracy,
macro-F1 and messages per second (prediction, tokenisation included), one thread each.

    python3 scripts/bench_classifier.py --bin target/release/jiesu [--out FILE]
        [--cv CV.json] [--nested NESTED.json]

--cv / --nested add the cross-validation estimate written by
`cargo run --release -p jiesu-text --example cv -- --groups … --repeats 3 --json CV.json`
(and `--nested 3 --json NESTED.json`) to the report, with its spread across folds.

Python (scikit-learn, jieba) is used only here, installed into a cache venv if missing.
"""
import argparse
import csv
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "tipdm2020" / "classify_train.csv"


def ensure_deps():
    try:
        import sklearn  # noqa: F401
        import jieba  # noqa: F401
        return sys.executable
    except ImportError:
        pass
    venv = pathlib.Path.home() / ".cache" / "jiesu-bench-venv"
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(venv)])
    subprocess.check_call([str(py), "-m", "pip", "install", "-q", "scikit-learn", "jieba"])
    return str(py)


def sklearn_part(train, test):
    """Runs inside the interpreter that has scikit-learn; returns a dict."""
    import jieba
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.svm import LinearSVC

    jieba.setLogLevel(60)
    tok = lambda s: [w for w in jieba.lcut(s) if w.strip()]
    t0 = time.perf_counter()
    vec = TfidfVectorizer(tokenizer=tok, token_pattern=None, sublinear_tf=True, min_df=1)
    x = vec.fit_transform([r["text"] for r in train])
    clf = LinearSVC(C=1.0).fit(x, [r["label"] for r in train])
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pred = [clf.predict(vec.transform([r["text"]]))[0] for r in test]
    per_msg = (time.perf_counter() - t0) / len(test)
    gold = [r["label"] for r in test]
    return {
        "accuracy": accuracy_score(gold, pred),
        "macro_f1": f1_score(gold, pred, average="macro"),
        "msgs_per_s": 1.0 / per_msg,
        "train_s": train_s,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out")
    ap.add_argument("--cv", help="CvReport JSON from the cv example")
    ap.add_argument("--nested", help="NestedReport JSON from the cv example")
    ap.add_argument("--inner", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.inner:  # the scikit-learn half, in the venv's interpreter
        d = json.load(open(a.inner))
        print(json.dumps(sklearn_part(d["train"], d["test"])))
        return
    if not DATA.exists():
        print(f"skipped: {DATA} is absent")
        return
    rows = list(csv.DictReader(open(DATA, encoding="utf-8")))
    # Stratified 80/20 split, seeded, without scikit-learn in this interpreter.
    import random

    rng = random.Random(20201)
    by_label = {}
    for r in rows:
        by_label.setdefault(r["label"], []).append(r)
    train, test = [], []
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        k = round(len(group) * 0.2)
        test += group[:k]
        train += group[k:]
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="jiesu-clf-"))
    for name, part in (("train.csv", train), ("test.csv", test)):
        with open(tmp / name, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["id", "text", "label"])
            w.writeheader()
            for r in part:
                w.writerow({"id": r["id"], "text": r["text"], "label": r["label"]})
    t0 = time.perf_counter()
    subprocess.check_call(
        [a.bin, "text", "train", "--input", str(tmp / "train.csv"), "--out", str(tmp / "model"), "--cv-folds", "0"],
        stdout=subprocess.DEVNULL,
        env={**os.environ, "JIESU_LOG": "warn"},
    )
    jiesu_train_s = time.perf_counter() - t0
    ev = json.loads(
        subprocess.check_output(
            [a.bin, "text", "eval", "--model", str(tmp / "model"), "--input", str(tmp / "test.csv")],
            env={**os.environ, "JIESU_LOG": "warn"},
        )
    )
    py = ensure_deps()
    json.dump({"train": train, "test": test}, open(tmp / "split.json", "w"), ensure_ascii=False)
    sk = json.loads(subprocess.check_output([py, __file__, "--bin", a.bin, "--inner", str(tmp / "split.json")]))
    jiesu_rate = 1000.0 / ev["ms_per_doc"]
    report = f"""# Classifier benchmark

Stratified 80/20 split (seed 20201) of `classify_train.csv`: {len(train)} training and {len(test)}
test messages, 7 categories, both models trained and scored in this one run. One thread each;
messages/s is one message at a time, tokenisation included (jieba for scikit-learn; Jiesu's
default reads character n-grams only). Jiesu's expected calibration error (10 bins) on the
test part: {ev.get("ece", float("nan")):.4f}; {ev["ms_per_doc"]:.3f} ms per message.

| | accuracy | macro-F1 | messages/s | training, s |
|---|---|---|---|---|
| Jiesu (`jiesu text train/eval`: TF-IDF char 1–3-grams + title 1–2-grams, NB-scaled (log-count ratios), class-balanced one-vs-rest linear SVM, calibrated) | {ev["accuracy"]:.4f} | {ev["macro_f1"]:.4f} | {jiesu_rate:.0f} | {jiesu_train_s:.1f} |
| baseline: scikit-learn TF-IDF (jieba words) + LinearSVC | {sk["accuracy"]:.4f} | {sk["macro_f1"]:.4f} | {sk["msgs_per_s"]:.0f} | {sk["train_s"]:.1f} |
| ratio Jiesu / baseline | {ev["accuracy"] / sk["accuracy"]:.3f} | {ev["macro_f1"] / sk["macro_f1"]:.3f} | {jiesu_rate / sk["msgs_per_s"]:.1f}× | |
"""
    rel = [b for b in ev.get("reliability", []) if b["n"]]
    if rel:
        report += "\nJiesu's reliability table on the test part (top label's probability):\n\n"
        report += "| probability | messages | mean probability | accuracy |\n|---|---|---|---|\n"
        for b in rel:
            report += f"| {b['lower']:.1f}–{b['upper']:.1f} | {b['n']} | {b['confidence']:.3f} | {b['accuracy']:.3f} |\n"
    if a.cv:
        cv = json.load(open(a.cv))
        f = cv["fold_macro_f1"]
        report += (
            f"\nCross-validation estimate of the default on all 7,366 messages: "
            f"{cv['folds']}-fold × {cv['repeats']} stratified CV"
            f"{', grouped by near-duplicate group (近重复组)' if cv.get('grouped') else ''}: "
            f"macro-F1 {cv['macro_f1_mean']:.4f} ± {cv['macro_f1_std']:.4f} (sd over {len(f)} folds, "
            f"min {min(f):.4f}, max {max(f):.4f}), pooled ECE {cv['pooled']['ece']:.4f}.\n"
        )
    if a.nested:
        n = json.load(open(a.nested))
        report += (
            f"Nested CV (the choice among {', '.join(n['candidates'])} made inside each outer "
            f"training part by an inner grouped CV): macro-F1 {n['macro_f1_mean']:.4f} ± "
            f"{n['macro_f1_std']:.4f} over {len(n['outer_macro_f1'])} outer folds "
            f"(picked: {', '.join(n['chosen'])}).\n"
        )
    print(report)
    if a.out:
        pathlib.Path(a.out).write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
