import { render } from "preact";
import { App } from "./app";
import { restoreSession } from "./api/auth";
import "./styles.css";

void restoreSession();
render(<App />, document.getElementById("app")!);
