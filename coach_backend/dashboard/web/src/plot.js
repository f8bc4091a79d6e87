// Small canvas time-series plot (no dependencies): a rolling window of angle series.
const COLORS = ["#2b8cbe", "#e6550d", "#31a354"];

export class AnglePlot {
  constructor(canvas, title, names, windowS = 10, range = [0, 150]) {
    this.canvas = canvas;
    this.title = title;
    this.names = names;
    this.windowS = windowS;
    this.range = range;
    this.t = [];
    this.v = names.map(() => []);
    this.points = 0; // total samples ever added (tests read it)
  }

  clear() {
    this.t = [];
    this.v = this.names.map(() => []);
  }

  add(tS, values) {
    if (this.t.length && tS < this.t[this.t.length - 1]) this.clear(); // seek back / new stream
    this.t.push(tS);
    values.forEach((x, i) => this.v[i].push(x));
    this.points++;
    while (this.t.length && this.t[0] < tS - this.windowS) {
      this.t.shift();
      this.v.forEach((s) => s.shift());
    }
  }

  draw() {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const g = c.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const [lo, hi] = this.range;
    const left = 30, top = 16, pw = w - left - 6, ph = h - top - 14;
    g.font = "11px sans-serif";
    g.fillStyle = "#333";
    g.fillText(this.title + " (deg)", left, 11);
    g.strokeStyle = "#ddd";
    g.fillStyle = "#888";
    for (let a = lo; a <= hi; a += 30) {
      const y = top + ph - ((a - lo) / (hi - lo)) * ph;
      g.beginPath();
      g.moveTo(left, y);
      g.lineTo(left + pw, y);
      g.stroke();
      g.fillText(String(a), 2, y + 4);
    }
    if (!this.t.length) return;
    const tEnd = this.t[this.t.length - 1];
    const x = (t) => left + pw - ((tEnd - t) / this.windowS) * pw;
    const y = (a) => top + ph - ((Math.min(hi, Math.max(lo, a)) - lo) / (hi - lo)) * ph;
    this.v.forEach((series, i) => {
      g.strokeStyle = COLORS[i % COLORS.length];
      g.lineWidth = 1.5;
      g.beginPath();
      series.forEach((a, k) => (k ? g.lineTo(x(this.t[k]), y(a)) : g.moveTo(x(this.t[k]), y(a))));
      g.stroke();
      const last = series[series.length - 1];
      g.fillStyle = COLORS[i % COLORS.length];
      g.fillText(`${this.names[i]} ${Math.round(last) || 0}`, left + 4 + i * 70, top + ph + 12);
    });
  }
}
