// Reads lines of stdin, each a JSON array of Mermaid diagram sources, and prints for each a line with a JSON
// array of what Mermaid made of each source: {"ok": true, "type": "flowchart-v2", "labels": {"nodeId": "text
// as displayed"}} or {"ok": false, "error": "..."}. One process answers many lines: loading jsdom and Mermaid
// takes seconds, parsing milliseconds.
//
// Parsing is Mermaid's own (mermaid.parse, then the diagram's node database). Mermaid's parser sanitizes
// labels with DOMPurify, which needs a DOM: jsdom provides one. The displayed text of a label is what
// Mermaid's renderer does with it: entity codes (#35; #quot;) become HTML character references, which a
// browser (here jsdom) decodes.
import { createInterface } from "node:readline";

import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

// Mermaid's decodeEntities (packages/mermaid/src/mermaidAPI.ts), then the browser's HTML decoding.
function displayed(text) {
  const html = text.replace(/ﬂ°°/g, "&#").replace(/ﬂ°/g, "&").replace(/¶ß/g, ";");
  const box = document.createElement("textarea");
  box.innerHTML = html;
  return box.value;
}

async function parseAll(sources) {
  const results = [];
  for (const source of sources) {
    try {
      const parsed = await mermaid.parse(source);
      const diagram = await mermaid.mermaidAPI.getDiagramFromText(source);
      const labels = {};
      if (typeof diagram.db.getVertices === "function") {
        for (const [id, vertex] of diagram.db.getVertices()) labels[id] = displayed(vertex.text ?? "");
      }
      results.push({ ok: true, type: parsed.diagramType, labels });
    } catch (error) {
      results.push({ ok: false, error: String(error?.message ?? error) });
    }
  }
  return results;
}

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === "") continue;
  process.stdout.write(JSON.stringify(await parseAll(JSON.parse(line))) + "\n");
}
