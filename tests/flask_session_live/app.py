"""A Flask-Session 0.8 app on Redis, for tests/flask_session_live.rs."""
import os
import sys

import redis
from flask import Flask, jsonify, request, session
from flask_session import Session

app = Flask(__name__)
app.config.update(
    SECRET_KEY="flask-session-live-test-key",
    SESSION_TYPE="redis",
    SESSION_REDIS=redis.Redis.from_url(os.environ["REDIS_URL"]),
    SESSION_KEY_PREFIX=os.environ["SESSION_PREFIX"],
)
Session(app)


@app.route("/login")
def login():
    session["user"] = "alice"
    session["cart"] = [1, 2]
    session["_user_id"] = "42"  # as Flask-Login keeps it
    return "ok"


@app.route("/add")
def add():
    session["cart"] = session.get("cart", []) + [int(request.args["item"])]
    return "ok"


@app.route("/show")
def show():
    return jsonify(session={k: v for k, v in session.items()})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]))
