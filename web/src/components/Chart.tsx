import { useEffect, useRef, useState } from "preact/hooks";

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
  bars?: boolean;
  dash?: boolean;
}

export interface ChartProps {
  title: string; // read by screen readers
  days: string[]; // YYYY-MM-DD, one per point
  series: Series[];
  height?: number;
  money?: boolean;
  invert?: boolean; // ranks: 1 at the top
  testId?: string;
}

/** A time-series chart drawn by uPlot (about 20 kB gzipped, canvas, fast with thousands of points).
 * uPlot is loaded only by pages that draw charts, so the leaderboard's first load stays small. */
export function Chart(props: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let dispose: (() => void) | undefined;
    let cancelled = false;
    import("./uplot-chart")
      .then(({ draw }) => {
        if (!cancelled && host.current) dispose = draw(host.current, props);
      })
      .catch(() => setFailed(true));
    return () => {
      cancelled = true;
      dispose?.();
    };
  }, [props.days, props.series, props.height, props.money, props.invert]);

  const last = props.series.map((s) => {
    const value = [...s.values].reverse().find((v) => v != null);
    return `${s.label}: ${value == null ? "no data" : value.toFixed(props.money ? 2 : 0)}`;
  });
  return (
    <figure class="chart" data-testid={props.testId} data-points={props.days.length}>
      <figcaption class="visually-hidden">
        {props.title}, {props.days.length} days{props.days.length ? ` from ${props.days[0]} to ${props.days[props.days.length - 1]}` : ""}; latest {last.join(", ")}
      </figcaption>
      {failed ? <p class="state error">The chart could not be drawn.</p> : <div ref={host} class="chart-canvas" style={{ minHeight: `${(props.height ?? 240) + 40}px` }} />}
    </figure>
  );
}
