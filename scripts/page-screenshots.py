#!/usr/bin/env python3
"""The interactive page's screenshots in docs/gallery/ (interactive-*.png):
each sample page rendered by chainrule, opened in headless Chromium, used
(keys, hover, clicks) and photographed at 1280x720.

    CHAINRULE=.build/debug/chainrule scripts/page-screenshots.py
"""
import base64, fcntl, json, os, subprocess, sys, tempfile, time

class Browser:
    """Headless Chromium over the DevTools pipe (fds 3 and 4, NUL-separated JSON)."""
    def __init__(s, w=1280, h=720):
        a, w1 = os.pipe(); r2, c = os.pipe()
        r1 = fcntl.fcntl(a, fcntl.F_DUPFD, 100); w2 = fcntl.fcntl(c, fcntl.F_DUPFD, 100); os.close(a); os.close(c)
        w1 = fcntl.fcntl(w1, fcntl.F_DUPFD, 120); r2 = fcntl.fcntl(r2, fcntl.F_DUPFD, 120)
        s.p = subprocess.Popen(["chromium","--headless=new","--no-sandbox","--disable-gpu","--remote-debugging-pipe","--hide-scrollbars",
            "--user-data-dir="+tempfile.mkdtemp(), f"--window-size={w},{h}","about:blank"],
            pass_fds=(3,4), close_fds=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=lambda: (os.dup2(r1,3), os.dup2(w2,4)))
        os.close(r1); os.close(w2)
        s.out=w1; s.inp=r2; s.buf=b""; s.id=0; s.sess=None; s.events=[]
        t=s.call("Target.createTarget",{"url":"about:blank"},False)["targetId"]
        s.sess=s.call("Target.attachToTarget",{"targetId":t,"flatten":True},False)["sessionId"]
        for d in ["Runtime.enable","Page.enable","Log.enable"]: s.call(d)
        s.call("Emulation.setDeviceMetricsOverride",{"width":w,"height":h,"deviceScaleFactor":1,"mobile":False})
    def call(s, m, p={}, sess=True):
        s.id+=1; msg={"id":s.id,"method":m,"params":p}
        if sess and s.sess: msg["sessionId"]=s.sess
        os.write(s.out, json.dumps(msg).encode()+b"\0")
        while True:
            while b"\0" not in s.buf: s.buf+=os.read(s.inp, 65536)
            i=s.buf.index(b"\0"); m2=json.loads(s.buf[:i]); s.buf=s.buf[i+1:]
            if "method" in m2: s.events.append(m2); continue
            if m2.get("id")==s.id:
                if "error" in m2: raise Exception(m2["error"])
                return m2.get("result",{})
    def open(s,url):
        s.events=[e for e in s.events if e["method"]!="Page.loadEventFired"]
        s.call("Page.navigate",{"url":url})
        while not any(e["method"]=="Page.loadEventFired" for e in s.events): s.call("Runtime.evaluate",{"expression":"1"}); time.sleep(0.05)
    def ev(s,e): 
        r=s.call("Runtime.evaluate",{"expression":e,"returnByValue":True,"awaitPromise":True})
        if "exceptionDetails" in r: raise Exception(r["exceptionDetails"])
        return r["result"].get("value")
    def move(s,x,y): s.call("Input.dispatchMouseEvent",{"type":"mouseMoved","x":x,"y":y})
    def click(s,x,y):
        s.move(x,y)
        for t in ["mousePressed","mouseReleased"]: s.call("Input.dispatchMouseEvent",{"type":t,"x":x,"y":y,"button":"left","clickCount":1})
    def key(s,k,c):
        for t in ["rawKeyDown","keyUp"]: s.call("Input.dispatchKeyEvent",{"type":t,"key":k,"code":k,"windowsVirtualKeyCode":c})
    def centre(s,sel):
        return s.ev("""(() => { const el = document.querySelector(`%s`); if (!el) return null;
              if (el.getTotalLength) { const p = el.getPointAtLength(el.getTotalLength() / 2), m = el.getScreenCTM();
                return [p.x * m.a + m.e, p.y * m.d + m.f]; }
              const r = el.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()""" % sel)
    def shot(s,path):
        open(path,"wb").write(base64.b64decode(s.call("Page.captureScreenshot",{"format":"png"})["data"]))
    def errors(s):
        return [e for e in s.events if e["method"]=="Runtime.exceptionThrown" or (e["method"]=="Runtime.consoleAPICalled" and e["params"]["type"]=="error") or (e["method"]=="Log.entryAdded" and e["params"]["entry"]["level"]=="error")]
    def close(s):
        try: s.call("Browser.close",{},False)
        except Exception: pass
        s.p.wait(5)


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GALLERY = os.path.join(ROOT, "docs", "gallery")
CHAINRULE = os.environ.get("CHAINRULE", os.path.join(ROOT, ".build", "release", "chainrule"))


def page(out, *arguments):
    path = os.path.join(out, arguments[-1])
    command = [CHAINRULE] + list(arguments[:-1]) + ["-o" if arguments[0] == "render" else "--figure", path]
    subprocess.run(command, check=arguments[0] == "render", cwd=ROOT, stdout=subprocess.DEVNULL)
    return "file://" + path


def main():
    out = tempfile.mkdtemp()
    b = Browser(1280, 720)
    # The circuit, step 2 of the backward pass (the + gate), hovering the wire x -> +.
    b.open(page(out, "render", "samples/cs231n-circuit.grad", "circuit.html"))
    for _ in range(3): b.key("ArrowRight", 39)
    names = b.ev("window.chainrule.data.nodes.map(n => n.name)")
    b.move(*b.centre(f".wire[data-source='{names.index('x')}'][data-consumer='{names.index('q')}']"))
    b.shot(os.path.join(GALLERY, "interactive-cs231n-steps.png"))
    # LeNet: the first conv layer expanded, the panel on its output.
    b.open(page(out, "render", "samples/lenet.grad", "lenet.html"))
    b.click(*b.centre(".box[data-layer='0']"))
    last = b.ev("window.chainrule.data.layers[0].nodes")[-1]
    b.click(*b.centre(f".box[data-node='{last}']"))
    b.move(5, 700)
    b.shot(os.path.join(GALLERY, "interactive-lenet-expanded.png"))
    # The check overlay: the failed node's panel.
    b.open(page(out, "check", "samples/custom-op-wrong.grad", "check.html"))
    b.click(*b.centre("#failures"))
    b.move(5, 700)
    b.shot(os.path.join(GALLERY, "interactive-check-failed.png"))
    # The sigmoid neuron in the colour-blind palette, hovering a gate.
    b.open(page(out, "render", "samples/sigmoid-neuron.grad", "sigmoid.html"))
    b.key("c", 67)
    b.move(*b.centre(".box[data-kind='op']"))
    b.shot(os.path.join(GALLERY, "interactive-sigmoid-colorblind.png"))
    # train --html: moons' MLP after 30 epochs of Adam, the slider back at epoch 5, hovering the first layer.
    trained = os.path.join(out, "train.html")
    subprocess.run([CHAINRULE, "train", "samples/moons-mlp.grad", "--data", "moons", "--optimizer", "adam", "--lr", "0.01",
                    "--epochs", "30", "--batch", "200", "--html", trained], check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    b.open("file://" + trained)
    b.ev("(() => { const s = document.getElementById('epoch'); s.value = 5; s.dispatchEvent(new Event('input')); })()")
    b.move(*b.centre(".box[data-layer='0']"))
    b.shot(os.path.join(GALLERY, "interactive-train-moons.png"))
    errors = b.errors()
    b.close()
    if errors:
        sys.exit(f"console errors: {errors}")


if __name__ == "__main__":
    main()
