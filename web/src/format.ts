const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const usdShort = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  notation: "compact",
  maximumFractionDigits: 1,
});
const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

export const money = (value: number | null | undefined) => (value == null ? "—" : usd.format(value));
export const moneyShort = (value: number | null | undefined) => (value == null ? "—" : usdShort.format(value));
export const num = (value: number | null | undefined) => (value == null ? "—" : number.format(value));

export function pct(value: number | null | undefined): string {
  if (value == null) return "—";
  return `${value > 0 ? "+" : ""}${value.toFixed(1)} %`;
}

/** "up" / "down" / "" for colouring a change. */
export const trend = (value: number | null | undefined) => (value == null || value === 0 ? "" : value > 0 ? "up" : "down");

export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function daysBefore(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - days);
  return isoDay(date);
}

export function dateTime(value: string): string {
  return new Date(value).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
}

export const label = (code: string) => code.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
