import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { ChartProps } from "./Chart";

const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", notation: "compact" });

export function draw(host: HTMLElement, props: ChartProps): () => void {
  const xs = props.days.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000);
  const bars = uPlot.paths.bars?.({ size: [0.7, 40] });
  const options: uPlot.Options = {
    width: Math.max(host.clientWidth, 280),
    height: props.height ?? 240,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { y: { dir: props.invert ? -1 : 1 } },
    axes: [
      { stroke: "#5c6370", grid: { stroke: "#e6e8ec" } },
      {
        stroke: "#5c6370",
        grid: { stroke: "#e6e8ec" },
        size: 64,
        values: (_u, ticks) => ticks.map((t) => (props.money ? money.format(t) : String(t))),
      },
    ],
    series: [
      {},
      ...props.series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: s.bars ? 0 : 2,
        fill: s.bars ? s.color : undefined,
        dash: s.dash ? [6, 4] : undefined,
        paths: s.bars ? bars : undefined,
        points: { show: false },
        spanGaps: false,
        value: (_u: uPlot, v: number | null) =>
          v == null ? "—" : props.money ? `$${v.toFixed(2)}` : v.toLocaleString("en-US", { maximumFractionDigits: 1 }),
      })),
    ],
  };
  const plot = new uPlot(options, [xs, ...props.series.map((s) => s.values)] as uPlot.AlignedData, host);
  const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(host.clientWidth, 280), height: options.height }));
  resize.observe(host);
  return () => {
    resize.disconnect();
    plot.destroy();
  };
}
