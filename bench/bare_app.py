"""The baseline for benchmarks: one route, plain Flask, nothing else."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "ok"
