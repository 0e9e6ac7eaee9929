/**
 * DOM construction that can only ever create text: payload strings go through `textContent`,
 * never `innerHTML`, so a label like `<img src=x onerror=...>` is shown literally.
 */
export interface ElementProps {
  className?: string;
  text?: string;
  title?: string;
  /** Plain attributes; event-handler attributes (`on*`) are refused. */
  attrs?: Record<string, string>;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: ElementProps = {},
  children: Array<Node | null | undefined> = [],
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.className) el.className = props.className;
  if (props.text !== undefined) el.textContent = props.text;
  if (props.title !== undefined) el.title = props.title;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (/^on/i.test(name)) throw new Error(`refusing to set event-handler attribute "${name}"`);
    el.setAttribute(name, value);
  }
  for (const child of children) if (child) el.appendChild(child);
  return el;
}
