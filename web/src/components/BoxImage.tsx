import { useState } from "preact/hooks";

/** The box's picture when the catalog has one and it loads; otherwise a tidy placeholder with the set
 * code (the offline demo has no images). `image_url` is an address on this service, which serves the
 * copy it downloaded; the page's CSP refuses any other image host, and then the placeholder shows. */
export function BoxImage({
  src,
  name,
  code,
  size = 48,
}: {
  src?: string | null;
  name: string;
  code?: string | null;
  size?: number;
}) {
  const [failed, setFailed] = useState(false);
  if (src && !failed) {
    return (
      <img
        class="box-image"
        src={src}
        alt=""
        width={size}
        height={size}
        loading="lazy"
        referrerpolicy="no-referrer"
        onError={() => setFailed(true)}
      />
    );
  }
  const text = (code || name).slice(0, 6);
  return (
    <span class={`box-image placeholder s${size}`} aria-hidden="true" title={name}>
      {text}
    </span>
  );
}
