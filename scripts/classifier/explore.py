"""Phase-1 exploration for the Jiesu request-category classifier.

Stratified 5-fold CV (seed 20240) macro-F1 on classify_train.csv for a set of
TF-IDF linear models.  Also reports a group-aware variant (near-duplicate groups
from fujian2_messages_train80.csv kept on one side) because the maintainers'
hold-out was split group-aware, so plain stratified CV is a bit optimistic.

Run:  nice -n 19 python3.11 scripts/classifier/explore.py [--quick]
Data is read from ../shared/data/tipdm2020 at run time; nothing is copied.
"""
import sys
import time

import jieba
import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, StratifiedGroupKFold
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from tipdm import head, load

SEED = 20240

jieba.setLogLevel(60)


def words(t):
    return [w for w in jieba.lcut(t) if w.strip()]


def main():
    quick = "--quick" in sys.argv
    texts, y, groups = load()
    t0 = time.time()
    toks = [words(t) for t in texts]
    heads = [head(t) for t in texts]
    print(f"n={len(texts)} jieba {time.time()-t0:.1f}s", flush=True)
    ident = lambda d: d  # noqa: E731

    def wv(sub=True, min_df=2, ng=(1, 1)):
        return TfidfVectorizer(analyzer=ident, sublinear_tf=sub, min_df=min_df, ngram_range=ng)

    def cv(ng=(1, 3), sub=True, min_df=2, max_features=None):
        return TfidfVectorizer(analyzer="char", ngram_range=ng, sublinear_tf=sub, min_df=min_df,
                               max_features=max_features)

    def feats(kind, tr, te):
        """Fit the feature set `kind` on indices tr, transform tr and te."""
        blocks = []
        spec = kind.split("+")
        for s in spec:
            if s == "wbase":  # sklearn defaults on jieba words (baseline)
                v, d = TfidfVectorizer(analyzer=ident), toks
            elif s == "w":
                v, d = wv(), toks
            elif s == "w12":
                v, d = TfidfVectorizer(analyzer=lambda d: d + [a + "_" + b for a, b in zip(d, d[1:])],
                                       sublinear_tf=True, min_df=2), toks
            elif s == "c13":
                v, d = cv(), texts
            elif s == "c12":
                v, d = cv((1, 2)), texts
            elif s == "c24":
                v, d = cv((2, 4)), texts
            elif s == "h":  # head char 1-2 grams, separate block
                v, d = cv((1, 2)), heads
            else:
                raise ValueError(s)
            Xtr = v.fit_transform([d[i] for i in tr])
            Xte = v.transform([d[i] for i in te])
            blocks.append((Xtr, Xte))
        if len(blocks) == 1:
            return blocks[0]
        # concatenate and re-normalise to unit l2 (each block is already l2)
        w = [0.5 if s == "h" else 1.0 for s in spec]
        Xtr = sp.hstack([b[0] * wi for b, wi in zip(blocks, w)]).tocsr()
        Xte = sp.hstack([b[1] * wi for b, wi in zip(blocks, w)]).tocsr()
        from sklearn.preprocessing import normalize
        return normalize(Xtr), normalize(Xte)

    models = {
        "svc": lambda: LinearSVC(C=1.0),
        "svc.5": lambda: LinearSVC(C=0.5),
        "svc2": lambda: LinearSVC(C=2.0),
        "svcL1loss": lambda: LinearSVC(C=1.0, loss="hinge"),
        "lr": lambda: LogisticRegression(C=20.0, max_iter=2000),
        "cnb": lambda: ComplementNB(alpha=0.3),
    }
    configs = [
        ("baseline: jieba words tfidf (defaults) + LinearSVC C=1", "wbase", ["svc"]),
        ("jieba words sublinear min_df=2 + LinearSVC", "w", ["svc"]),
        ("jieba uni+bigrams sublinear + LinearSVC", "w12", ["svc"]),
        ("char 1-3 sublinear + LinearSVC", "c13", ["svc.5", "svc", "svc2"]),
        ("char 2-4 sublinear + LinearSVC", "c24", ["svc"]),
        ("words + char 1-3 (sublinear) + LinearSVC", "w+c13", ["svc.5", "svc", "svc2", "svcL1loss", "lr"]),
        ("words + char 1-2 + LinearSVC", "w+c12", ["svc"]),
        ("words + char 1-3 + head(0.5) + LinearSVC", "w+c13+h", ["svc", "lr"]),
        ("ComplementNB on words tfidf", "w", ["cnb"]),
        ("ComplementNB on words + char 1-3", "w+c13", ["cnb"]),
    ]
    if quick:
        configs = configs[:2]

    splitters = [("strat", StratifiedKFold(5, shuffle=True, random_state=SEED).split(texts, y)),
                 ("group", StratifiedGroupKFold(5, shuffle=True, random_state=SEED).split(texts, y, groups))]
    splits = {name: list(s) for name, s in splitters}
    results = {}
    ens_scores = {}
    for split_name, folds in splits.items():
        for desc, kind, mods in configs:
            preds = {m: np.empty(len(y), dtype=object) for m in mods}
            for fi, (tr, te) in enumerate(folds):
                Xtr, Xte = feats(kind, tr, te)
                for m in mods:
                    clf = models[m]().fit(Xtr, y[tr])
                    preds[m][te] = clf.predict(Xte)
                    if kind == "w+c13" and m in ("svc", "lr"):
                        # keep scores for simple ensembles
                        s = clf.decision_function(Xte) if m == "svc" else clf.predict_log_proba(Xte)
                        ens_scores.setdefault((split_name, m), np.zeros((len(y), 7)))[te] = s
                        ens_scores[(split_name, "classes")] = clf.classes_
                if kind == "w+c13":
                    nb = models["cnb"]().fit(Xtr, y[tr])
                    ens_scores.setdefault((split_name, "nb"), np.zeros((len(y), 7)))[te] = nb.predict_log_proba(Xte)
            for m in mods:
                f = f1_score(y, preds[m], average="macro")
                results[(desc, m, split_name)] = f
                print(f"{split_name:5s} {f:.4f}  {desc} [{m}]", flush=True)
        cls = ens_scores[(split_name, "classes")]
        sv, lr, nb = (ens_scores[(split_name, k)] for k in ("svc", "lr", "nb"))
        z = lambda a: (a - a.mean(1, keepdims=True)) / (a.std(1, keepdims=True) + 1e-9)  # noqa: E731
        for name, s in [("ens: svc + lr (z-scored)", z(sv) + z(lr)),
                        ("ens: svc + lr + nb (z-scored)", z(sv) + z(lr) + z(nb))]:
            f = f1_score(y, cls[s.argmax(1)], average="macro")
            results[(name, "-", split_name)] = f
            print(f"{split_name:5s} {f:.4f}  {name}", flush=True)

    print("\n| configuration | model | strat 5-fold | group 5-fold |\n|---|---|---|---|")
    seen = []
    for (d, m, _s) in results:
        if (d, m) not in seen:
            seen.append((d, m))
    for d, m in seen:
        print(f"| {d} | {m} | {results.get((d, m, 'strat'), float('nan')):.4f} | "
              f"{results.get((d, m, 'group'), float('nan')):.4f} |")
    print(f"total {time.time()-t0:.0f}s")


if __name__ == "__main__":
    main()
