from flask import render_template

from portal.staff import staff


@staff.get("/login")
def login():
    return render_template("client/home.html")
