// Charts on uPlot (ui/vendor/uPlot.esm.js, from the npm package uplot): time series and side-by-side
// histograms. Each chart sizes itself to its container and is destroyed with the page.
import uPlot from '../vendor/uPlot.esm.js';
import {h} from './dom.js';

const PALETTE = ['#2f7d32', '#1565c0', '#c62828', '#ef6c00', '#6a1b9a', '#00838f', '#5d4037', '#ad1457'];
export const color = i => PALETTE[i % PALETTE.length];

function widthOf(el) {
  return Math.max(280, Math.floor(el.getBoundingClientRect().width || el.parentElement?.getBoundingClientRect().width || 600));
}

// A line chart over time. xs: Unix seconds; series: [{label, values}]. Returns {update(xs, series), destroy()}.
export function timeChart(container, {title, series, xs, height = 220, yLabel = '', format = v => v, xWindow = 0}) {
  const el = h('div', {class: 'chart', 'data-chart': title});
  container.append(el);
  let lastX = xs.length ? xs[xs.length - 1] : Date.now() / 1000;  // with xWindow: the newest xWindow seconds are shown
  const opts = {
    title, width: widthOf(container), height,
    scales: {x: xWindow ? {time: true, range: () => [lastX - xWindow, lastX]} : {time: true}, y: {range: (u, min, max) => [Math.min(0, min ?? 0), max > 0 ? max * 1.1 : 1]}},
    axes: [{}, {label: yLabel, values: (u, ticks) => ticks.map(format), size: 70}],
    series: [{}, ...series.map((s, i) => ({label: s.label, stroke: color(i), width: 2, spanGaps: false, points: {show: true, size: 4}, value: (u, v) => v === null || v === undefined ? '—' : format(v)}))],
  };
  let plot = new uPlot(opts, [xs, ...series.map(s => s.values)], el);
  const resize = new ResizeObserver(() => plot.setSize({width: widthOf(container), height}));
  resize.observe(container);
  return {
    element: el,
    update(newXs, newSeries) {
      if (newXs.length) lastX = newXs[newXs.length - 1];
      if (newSeries.length !== series.length || newSeries.some((s, i) => s.label !== series[i].label)) {
        series = newSeries;
        plot.destroy();
        opts.series = [{}, ...series.map((s, i) => ({label: s.label, stroke: color(i), width: 2, points: {show: true, size: 4}, value: (u, v) => v === null || v === undefined ? '—' : format(v)}))];
        plot = new uPlot(opts, [newXs, ...series.map(s => s.values)], el);
      } else {
        plot.setData([newXs, ...newSeries.map(s => s.values)]);
      }
    },
    destroy() { resize.disconnect(); plot.destroy(); },
  };
}

// Bars per bin, one colour per series side by side. labels: bin names; series: [{label, values}].
export function barChart(container, {title, labels, series, height = 240, format = v => v}) {
  const el = h('div', {class: 'chart', 'data-chart': title});
  container.append(el);
  const n = series.length;
  const xs = labels.map((_, i) => i);
  const bars = uPlot.paths.bars;
  const opts = {
    title, width: widthOf(container), height,
    scales: {x: {time: false, range: [-0.5, labels.length - 0.5]}, y: {range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1]}},
    axes: [
      {values: (u, ticks) => ticks.map(t => labels[t] ?? ''), incrs: [1], rotate: -30, size: 60, gap: 4},
      {values: (u, ticks) => ticks.map(format), size: 60},
    ],
    legend: {live: true},
    cursor: {points: {show: false}},
    series: [
      {label: 'bin', value: (u, v) => v === null || v === undefined ? '—' : labels[v]},
      ...series.map((s, i) => ({
        label: s.label, fill: color(i) + 'cc', stroke: color(i), width: 1,
        paths: bars({size: [0.8 / n, 80], align: n === 2 ? (i === 0 ? -1 : 1) : 0}),
        points: {show: false},
        value: (u, v) => v === null || v === undefined ? '—' : format(v),
      })),
    ],
  };
  const plot = new uPlot(opts, [xs, ...series.map(s => s.values)], el);
  const resize = new ResizeObserver(() => plot.setSize({width: widthOf(container), height}));
  resize.observe(container);
  return {element: el, destroy() { resize.disconnect(); plot.destroy(); }};
}
