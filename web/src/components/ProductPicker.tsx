import { useEffect, useState } from "preact/hooks";
import { searchProducts } from "../api/endpoints";

/** A text field for a box's slug with suggestions from the catalog as you type. */
export function ProductPicker({ value, onChange, id }: { value: string; onChange: (slug: string) => void; id: string }) {
  const [options, setOptions] = useState<{ slug: string; name: string }[]>([]);
  useEffect(() => {
    if (value.length < 2) return;
    const timer = setTimeout(() => {
      searchProducts({ q: value, limit: 8 }).then((page) => setOptions(page.data), () => setOptions([]));
    }, 250);
    return () => clearTimeout(timer);
  }, [value]);
  return (
    <>
      <input
        id={id}
        name="product"
        required
        value={value}
        list={`${id}-options`}
        autocomplete="off"
        onInput={(e) => onChange(e.currentTarget.value)}
        placeholder="box name or slug"
      />
      <datalist id={`${id}-options`}>
        {options.map((o) => (
          <option value={o.slug}>{o.name}</option>
        ))}
      </datalist>
    </>
  );
}
