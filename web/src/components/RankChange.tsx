/** An arrow for a rank change: up (better), down (worse), same, or new to the ranking. */
export function RankChange({ change, before, period }: { change?: string | null; before?: number | null; period: string }) {
  if (!change) return <span class="rank-change none">—</span>;
  const text = { up: "▲", down: "▼", same: "=", new: "new" }[change] ?? change;
  const said =
    change === "new" ? `new in the ranking since ${period}` : `${change} since ${period}${before ? `, was ${before}` : ""}`;
  return (
    <span class={`rank-change ${change}`} title={said}>
      <span aria-hidden="true">{text}</span>
      <span class="visually-hidden">{said}</span>
    </span>
  );
}
