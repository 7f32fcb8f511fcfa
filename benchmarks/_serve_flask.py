"""Baseline for serve_bench.py: the Flask app most tutorials (and the legacy SageMaker scikit-learn
container's pattern) put behind gunicorn. Same model file, the usual pandas decode/encode.

    MODEL_DIR=build/model/extracted gunicorn -w 2 -b 127.0.0.1:8081 --chdir benchmarks _serve_flask:app
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import joblib
import pandas as pd
from flask import Flask, Response, jsonify, request

MODEL_DIR = Path(os.environ.get("MODEL_DIR", "/opt/ml/model"))
model = joblib.load(MODEL_DIR / "model.joblib")
metadata = json.loads((MODEL_DIR / "metadata.json").read_text())
FEATURES = [f["name"] for f in metadata["features"]]
THRESHOLD = float(metadata["threshold"])

app = Flask(__name__)


@app.route("/ping", methods=["GET"])
def ping() -> Response:
    return Response(response="\n", status=200, mimetype="application/json")


@app.route("/invocations", methods=["POST"])
def invocations() -> Response:
    if request.content_type.startswith("text/csv"):
        frame = pd.read_csv(io.StringIO(request.data.decode("utf-8")), header=None, names=FEATURES)
    elif request.content_type.startswith("application/json"):
        frame = pd.DataFrame(request.get_json()["instances"], columns=FEATURES)
    else:
        return Response(response="unsupported content type", status=415, mimetype="text/plain")
    proba = model.predict_proba(frame)[:, 1]
    if request.accept_mimetypes.best == "application/json":
        return jsonify(
            {"predictions": [{"fraud_probability": float(p), "is_fraud": bool(p >= THRESHOLD)} for p in proba]}
        )
    out = io.StringIO()
    pd.DataFrame({"p": proba, "y": (proba >= THRESHOLD).astype(int)}).to_csv(out, header=False, index=False)
    return Response(response=out.getvalue(), status=200, mimetype="text/csv")
