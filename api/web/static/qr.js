// A QR code as an inline SVG element, drawn with the DOM (never from markup text): the consent's
// ``qrText`` is generated here, in the browser, so the code never travels in another request.

// qrcode-generator 2.0.4 (MIT), vendored unchanged from the locked npm tree (ADR 0022).
import qrcode from "./vendor/qrcode-generator-2.0.4.mjs";

const SVG = "http://www.w3.org/2000/svg";
/** Modules of white border the standard asks for around the symbol. */
const QUIET_ZONE = 4;

/**
 * An ``<svg>`` of ``text`` as a QR code (error correction M, the smallest version that holds
 * it), labelled ``label`` for assistive technology. The modules are one path in a viewBox of
 * module units, so the picture scales to whatever size the stylesheet gives it.
 */
export function qrSvg(text, label) {
  const code = qrcode(0, "M");
  code.addData(text, "Byte");
  code.make();
  const count = code.getModuleCount();
  const size = count + 2 * QUIET_ZONE;
  const steps = [];
  for (let row = 0; row < count; row += 1) {
    for (let column = 0; column < count; column += 1) {
      if (code.isDark(row, column)) {
        steps.push(`M${column + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`);
      }
    }
  }
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("class", "qr");
  svg.setAttribute("shape-rendering", "crispEdges");
  const ground = document.createElementNS(SVG, "rect");
  ground.setAttribute("width", String(size));
  ground.setAttribute("height", String(size));
  ground.setAttribute("fill", "#fff");
  const modules = document.createElementNS(SVG, "path");
  modules.setAttribute("d", steps.join(""));
  modules.setAttribute("fill", "#000");
  svg.append(ground, modules);
  return svg;
}
