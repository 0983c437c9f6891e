"""NBSVM study: does Wang & Manning (2012) log-count-ratio feature scaling, or one of a few
other cheap ideas, beat the current default of the Jiesu request-category classifier?

What it measures
    Macro-F1 of each configuration under grouped cross-validation: StratifiedGroupKFold(5,
    shuffle=True), groups = the near-duplicate groups (`近重复组` of
    fujian2_messages_train80.csv), repeated with random_state 20240, 20241, 20242 (15 folds).
    Vectorisers, r vectors and class weights are fitted on each training fold only. Per
    configuration: macro-F1 mean ± sd over the 15 folds, and the paired difference to the
    default on the same folds (mean ± sd of the 15 differences, folds better). A
    configuration that beats the default by > 0.002 in the mean *and* in at least 11 of 15
    folds is re-checked on fresh splits (random_state 777, 778, 779).

Configurations (fixed before any result was seen)
    default    the Rust default (crates/jiesu-text, TrainOptions::default): text normalised
               (full-width ASCII folded, whitespace runs -> one space, lower case), TF-IDF
               char 1-3-grams of the text (sublinear tf, smooth idf, min_df 3, l2) + "title"
               block char 1-2-grams (same settings) at weight 0.5, blocks concatenated and
               re-normalised; one-vs-rest squared-hinge linear SVM, C = 1, bias feature 1,
               class-balanced costs exactly as the Rust trainer does them: every example of
               class c costs C * n / (k * n_c) in *every* binary problem (scikit-learn's
               LinearSVC(class_weight="balanced") only up-weights the positives of each
               binary problem; it is shown as a reference row, not a candidate).
    nbsvm      same features x; per class c, from the training fold's binarized features
               b = 1{x > 0}: p = 1 + sum_{i in c} b_i, q = 1 + sum_{i not in c} b_i,
               r_c = log(p / |p|_1) - log(q / |q|_1); the binary SVM for c is trained on
               r_c * x (elementwise), same C, bias and balanced costs. The score is
               (r_c * x) . w + b = x . (r_c * w) + b, so the deployed weight row is r_c * w.
    nbsvm-b.25 nbsvm with the paper's interpolation w' = (1 - beta) mean|w| + beta w,
               beta = 0.25 (bias kept), deployed row r_c * w'.
    c14        default with char 1-4-grams in the text block.
    ens        default + nbsvm: per model, each message's 7 decision values z-scored
               (mean 0, sd 1 across classes), summed, argmax.
    C2         default with C = 2 (balanced costs).
    nbsvm-bin  paper-style input: binarized x (presence of the same vocabulary; no tf, no
               idf), blocks l2-normalised and weighted as in the default, then NBSVM as above.

Run (from the repository root; about 13 min on the shared 2-core machine under load):
    nice -n 19 python3.11 scripts/classifier/nbsvm_study.py [--quick]
--quick runs one split only (5 folds) to check the script. Data is read from
../shared/data/tipdm2020 at run time (override with JIESU_TIPDM_DIR); nothing is copied.
Needs numpy, scipy, scikit-learn (tested with 1.9.1).
"""
import os
import re
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from tipdm import head, load

SEEDS = [20240, 20241, 20242]
FRESH_SEEDS = [777, 778, 779]
TITLE_W = 0.5
BETA = 0.25
ALPHA = 1.0
MAX_CHARS = 20_000


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = ord(" ")
_WS = re.compile(r"[\s\x00-\x1f\x7f]+")


def norm(t):
    """Approximation of features::normalize (fold full-width ASCII, collapse spaces, lower)."""
    t = t[:MAX_CHARS].translate(_INVISIBLE).translate(_FULLWIDTH)
    return _WS.sub(" ", t).strip().lower()


def tfidf(ng):
    return TfidfVectorizer(analyzer="char", ngram_range=ng, sublinear_tf=True, smooth_idf=True,
                           min_df=3, lowercase=False, dtype=np.float64)


def combine(text_block, head_block):
    return normalize(sp.hstack([text_block, head_block * TITLE_W]).tocsr())


def binarize(m):
    b = m.copy()
    b.data[:] = 1.0
    return b


def fold_features(texts, heads, tr, te):
    """Feature matrices of one fold (vectorisers fitted on tr only)."""
    out = {}
    hv = tfidf((1, 2))
    h_tr, h_te = hv.fit_transform([heads[i] for i in tr]), hv.transform([heads[i] for i in te])
    for name, ng in (("c13", (1, 3)), ("c14", (1, 4))):
        v = tfidf(ng)
        t_tr, t_te = v.fit_transform([texts[i] for i in tr]), v.transform([texts[i] for i in te])
        out[name] = (combine(t_tr, h_tr), combine(t_te, h_te))
        if name == "c13":
            out["bin"] = (combine(normalize(binarize(t_tr)), normalize(binarize(h_tr))),
                          combine(normalize(binarize(t_te)), normalize(binarize(h_te))))
    return out


def balanced_weights(y, classes):
    counts = {c: (y == c).sum() for c in classes}
    return np.array([len(y) / (len(classes) * counts[c]) for c in y])


def log_count_ratio(Xtr, pos):
    """r = log((p/|p|_1) / (q/|q|_1)) from binarized features, smoothing ALPHA."""
    b = binarize(Xtr)
    p = ALPHA + np.asarray(b[pos].sum(0)).ravel()
    q = ALPHA + np.asarray(b[~pos].sum(0)).ravel()
    return np.log(p / p.sum()) - np.log(q / q.sum())


def train_ovr(Xtr, ytr, classes, C=1.0, nb=False):
    """One-vs-rest squared-hinge SVMs with Rust-style balanced costs.

    Returns (W, b, Winterp): deployed weight rows on the *unscaled* features (r_c * w for
    NBSVM), biases, and for NBSVM the rows of the beta-interpolated model (else None)."""
    sw = balanced_weights(ytr, classes)
    d = Xtr.shape[1]
    W = np.zeros((len(classes), d))
    Wi = np.zeros((len(classes), d)) if nb else None
    b = np.zeros(len(classes))
    for k, c in enumerate(classes):
        pos = ytr == c
        X = Xtr
        if nb:
            r = log_count_ratio(Xtr, pos)
            X = Xtr @ sp.diags(r)
        svm = LinearSVC(C=C, loss="squared_hinge", dual=True, intercept_scaling=1.0,
                        tol=1e-4, max_iter=5000)
        svm.fit(X, np.where(pos, 1, -1), sample_weight=sw)
        w = svm.coef_.ravel()
        b[k] = svm.intercept_[0]
        if nb:
            W[k] = r * w
            Wi[k] = r * ((1 - BETA) * np.abs(w).mean() + BETA * w)
        else:
            W[k] = w
    return W, b, Wi


def zrow(s):
    return (s - s.mean(1, keepdims=True)) / (s.std(1, keepdims=True) + 1e-12)


CONFIGS = ["default", "nbsvm", "nbsvm-b.25", "c14", "ens", "C2", "nbsvm-bin", "ref: sklearn cw=balanced"]


def run_split(texts, heads, y, groups, seed, classes, which=None):
    """Per-fold macro-F1 of every configuration for one shuffled 5-fold grouped split."""
    which = which or CONFIGS
    res = {c: [] for c in which}
    skf = StratifiedGroupKFold(5, shuffle=True, random_state=seed)
    for fi, (tr, te) in enumerate(skf.split(texts, y, groups)):
        t0 = time.time()
        F = fold_features(texts, heads, tr, te)
        ytr, yte = y[tr], y[te]
        Xtr, Xte = F["c13"]
        scores = {}
        W, b, _ = train_ovr(Xtr, ytr, classes)
        scores["default"] = Xte @ W.T + b
        if any(c.startswith("nbsvm") and c != "nbsvm-bin" or c == "ens" for c in which):
            W, b, Wi = train_ovr(Xtr, ytr, classes, nb=True)
            scores["nbsvm"] = Xte @ W.T + b
            scores["nbsvm-b.25"] = Xte @ Wi.T + b
            scores["ens"] = zrow(scores["default"]) + zrow(scores["nbsvm"])
        if "c14" in which:
            W, b, _ = train_ovr(F["c14"][0], ytr, classes)
            scores["c14"] = F["c14"][1] @ W.T + b
        if "C2" in which:
            W, b, _ = train_ovr(Xtr, ytr, classes, C=2.0)
            scores["C2"] = Xte @ W.T + b
        if "nbsvm-bin" in which:
            W, b, _ = train_ovr(F["bin"][0], ytr, classes, nb=True)
            scores["nbsvm-bin"] = F["bin"][1] @ W.T + b
        if "ref: sklearn cw=balanced" in which:
            m = LinearSVC(C=1.0, class_weight="balanced", tol=1e-4, max_iter=5000).fit(Xtr, ytr)
            assert list(m.classes_) == list(classes)
            scores["ref: sklearn cw=balanced"] = m.decision_function(Xte)
        for c in which:
            pred = classes[np.asarray(scores[c]).argmax(1)]
            res[c].append(f1_score(yte, pred, average="macro"))
        print(f"seed {seed} fold {fi}: " + " ".join(f"{c}={res[c][-1]:.4f}" for c in which)
              + f"  ({time.time()-t0:.0f}s, dim {Xtr.shape[1]})", flush=True)
    return res


def table(res, title):
    base = np.array(res["default"])
    lines = [f"### {title}", "",
             "| configuration | macro-F1 mean ± sd | paired diff vs default (mean ± sd) | folds better |",
             "|---|---|---|---|"]
    for c, v in res.items():
        v = np.array(v)
        if c == "default":
            lines.append(f"| {c} | {v.mean():.4f} ± {v.std(ddof=1):.4f} | - | - |")
        else:
            d = v - base
            lines.append(f"| {c} | {v.mean():.4f} ± {v.std(ddof=1):.4f} | {d.mean():+.4f} ± "
                         f"{d.std(ddof=1):.4f} | {(d > 0).sum()}/{len(d)} (ties {(d == 0).sum()}) |")
    return "\n".join(lines)


def main():
    quick = "--quick" in sys.argv
    t_start = time.time()
    texts, y, groups = load()
    texts = [norm(t) for t in texts]
    heads = [head(t) for t in texts]
    classes = np.unique(y)
    print(f"n={len(texts)} classes={len(classes)} groups={len(set(groups))} load1={os.getloadavg()}",
          flush=True)
    seeds = SEEDS[:1] if quick else SEEDS
    res = {c: [] for c in CONFIGS}
    for s in seeds:
        for c, v in run_split(texts, heads, y, groups, s, classes).items():
            res[c].extend(v)
    out = [table(res, f"Grouped 5-fold x {len(seeds)} (random_state {seeds})")]
    base = np.array(res["default"])
    winners = [c for c in CONFIGS if c != "default" and not c.startswith("ref")
               and (np.array(res[c]) - base).mean() > 0.002
               and ((np.array(res[c]) - base) > 0).sum() >= (11 if not quick else 4)]
    out.append(f"\nConfirmation candidates (> +0.002 mean and >= 11/15 folds better): {winners or 'none'}")
    if winners and not quick:
        fres = {c: [] for c in ["default"] + winners}
        for s in FRESH_SEEDS:
            for c, v in run_split(texts, heads, y, groups, s, classes, which=["default"] + winners).items():
                fres[c].extend(v)
        out.append(table(fres, f"Fresh splits (random_state {FRESH_SEEDS})"))
    out.append(f"\nruntime {time.time()-t_start:.0f}s, load average at end {os.getloadavg()}")
    print("\n" + "\n".join(out))


if __name__ == "__main__":
    main()
