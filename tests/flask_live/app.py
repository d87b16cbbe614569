"""The Flask half of tests/flask_live.rs: a session shared with a sessionkit app."""
import os
import sys

from flask import Flask, flash, jsonify, request, session

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET"]
app.config["SECRET_KEY_FALLBACKS"] = [k for k in os.environ.get("FLASK_FALLBACKS", "").split(",") if k]


@app.get("/login")
def login():
    session["user"] = "alice"
    session["cart"] = [1, 2]
    flash("Welcome")
    return "ok"


@app.get("/show")
def show():
    data = dict(session)
    flashes = data.pop("_flashes", [])
    return jsonify(
        session=data,
        flashes=[list(f) for f in flashes],
        flash_types=sorted({type(f).__name__ for f in flashes}),
    )


@app.get("/add")
def add():
    session["cart"].append(int(request.args["item"]))
    session.modified = True
    return "ok"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]))
