"""Headless Chromium (Debian's package) for tests of pages people look at.

load(url) returns the DOM after the load event (--dump-dom) and every console
message the page produced (Chromium logs them as INFO:CONSOLE lines on
stderr: errors, uncaught exceptions and Content-Security-Policy violations
among them). screenshot(url, png) keeps a PNG. An element tree parser is
included so tests read the DOM instead of grepping text.
"""
import html.parser
import os
import re
import shutil
import subprocess
import tempfile
import time

CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\]\s*(.*)")


def binary():
  for name in ("chromium", "chromium-browser", "google-chrome"):
    path = shutil.which(name)
    if path:
      return path
  return None


def _run(args, timeout):
  profile = tempfile.mkdtemp(prefix="gitfed-chromium-")
  try:
    cmd = [binary(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-extensions", "--disable-background-networking", "--enable-logging=stderr",
           "--v=0", "--user-data-dir=" + profile] + args
    started = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p, time.monotonic() - started
  finally:
    shutil.rmtree(profile, ignore_errors=True)


def load(url, timeout=120):
  """(dom text, console messages, wall seconds of the whole browser run)."""
  p, took = _run(["--dump-dom", url], timeout)
  if p.returncode != 0:
    raise RuntimeError("chromium failed (%d): %s" % (p.returncode, p.stderr[-2000:]))
  console = [m.group(1) for m in map(CONSOLE.search, p.stderr.splitlines()) if m]
  return p.stdout, console, took


def screenshot(url, png, width=1280, height=1600, timeout=120):
  p, _ = _run(["--hide-scrollbars", "--window-size=%d,%d" % (width, height), "--screenshot=" + png, url],
              timeout)
  if p.returncode != 0 or not os.path.exists(png) or os.path.getsize(png) == 0:
    raise RuntimeError("chromium made no screenshot (%d): %s" % (p.returncode, p.stderr[-2000:]))


class Element:
  def __init__(self, tag, attrs, parent):
    self.tag, self.attrs, self.parent, self.children, self.text = tag, dict(attrs), parent, [], ""

  def classes(self):
    return (self.attrs.get("class") or "").split()

  def iter(self):
    yield self
    for c in self.children:
      yield from c.iter()

  def find_all(self, tag=None, cls=None, **attrs):
    for e in self.iter():
      if tag and e.tag != tag:
        continue
      if cls and cls not in e.classes():
        continue
      if any(e.attrs.get(k.replace("_", "-")) != v for k, v in attrs.items()):
        continue
      yield e

  def all_text(self):
    return self.text + "".join(c.all_text() for c in self.children)


VOID = {"meta", "link", "br", "img", "input", "hr", "source", "area", "base", "col", "embed", "wbr"}


class _Parser(html.parser.HTMLParser):
  def __init__(self):
    super().__init__(convert_charrefs=True)
    self.root = Element("#root", {}, None)
    self.cur = self.root

  def handle_starttag(self, tag, attrs):
    e = Element(tag, attrs, self.cur)
    self.cur.children.append(e)
    if tag not in VOID:
      self.cur = e

  def handle_startendtag(self, tag, attrs):
    self.cur.children.append(Element(tag, attrs, self.cur))

  def handle_endtag(self, tag):
    e = self.cur
    while e is not None and e.tag != tag:
      e = e.parent
    if e is not None and e.parent is not None:
      self.cur = e.parent

  def handle_data(self, data):
    if self.cur.children:
      self.cur.children[-1].text += ""  # text after a child belongs to the parent
    self.cur.text += data


def parse(dom):
  p = _Parser()
  p.feed(dom)
  p.close()
  return p.root
