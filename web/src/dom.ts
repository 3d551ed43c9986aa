// A few lines instead of a framework: build elements with h(), and update a polled region in
// place with morph(), so that focus, scroll and screen-reader position survive a refresh.
// Handlers are never attached to morphed nodes: pages listen on their root and dispatch on
// data-action, reading the current state, not the state of the first render.

export type Child = Node | string | number | null | undefined | false | Child[];
type AttrValue = string | number | boolean | null | undefined;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, AttrValue> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else if (c instanceof Node) parent.appendChild(c);
    else parent.appendChild(document.createTextNode(String(c)));
  }
}

/** morph makes `from` look like `to`, reusing nodes where the tag matches. */
export function morph(from: Node, to: Node): void {
  if (from.nodeType !== to.nodeType || from.nodeName !== to.nodeName) {
    from.parentNode?.replaceChild(to, from);
    return;
  }
  if (from.nodeType !== Node.ELEMENT_NODE) {
    if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
    return;
  }
  const f = from as Element;
  const t = to as Element;
  for (const a of Array.from(f.attributes)) {
    // A <details> the reader opened stays open.
    if (!t.hasAttribute(a.name) && !(a.name === 'open' && f.nodeName === 'DETAILS')) f.removeAttribute(a.name);
  }
  for (const a of Array.from(t.attributes)) {
    if (f.getAttribute(a.name) !== a.value) f.setAttribute(a.name, a.value);
  }
  if (f instanceof HTMLProgressElement && t instanceof HTMLProgressElement) f.value = t.value;
  const fc = Array.from(f.childNodes);
  const tc = Array.from(t.childNodes);
  for (let i = 0; i < tc.length; i++) {
    if (i < fc.length) morph(fc[i], tc[i]);
    else f.appendChild(tc[i]);
  }
  for (let i = tc.length; i < fc.length; i++) f.removeChild(fc[i]);
}

/** replace swaps the content of a region that has no polled state (forms, dialogs). */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export function announce(text: string): void {
  const el = document.getElementById('announce');
  if (!el) return;
  // Clearing first makes screen readers repeat an identical message.
  el.textContent = '';
  window.setTimeout(() => (el.textContent = text), 50);
}
