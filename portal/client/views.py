from flask import render_template

from portal.client import client


@client.get("/")
def home():
    return render_template("client/home.html")


@client.get("/login")
def login():
    return render_template("client/home.html")
