import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import { Loading } from "../components/States";

/** A page whose code is fetched the first time it is shown. */
export function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | undefined;
  return function LazyPage(props: P) {
    const [Component, setComponent] = useState<ComponentType<P> | undefined>(() => loaded);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (!loaded) {
        load().then(
          (c) => {
            loaded = c;
            setComponent(() => c);
          },
          () => setFailed(true),
        );
      }
    }, []);
    if (failed) return <div class="state error" role="alert">This page could not be loaded. Reload to try again.</div>;
    return Component ? <Component {...props} /> : <Loading />;
  };
}
