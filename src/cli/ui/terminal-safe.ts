/**
 * Text from Webex (display names, emails, room titles, error descriptions) made safe to print on a terminal: a
 * display name must not move the cursor, clear the screen, set the window title, plant a hyperlink or reorder what
 * the operator reads. Use {@link terminalSafe} wherever Webex-sourced text is printed as text; `--json` output keeps
 * the raw value (JSON.stringify escapes control characters itself).
 */

/**
 * Whole escape sequences: CSI (`ESC [` … final byte, or the 8-bit CSI U+009B), OSC/DCS/SOS/PM/APC strings up to
 * their terminator (BEL or ST, 7- or 8-bit), and the two-byte ESC forms.
 */
const ESCAPE_SEQUENCE = new RegExp(
  [
    '(?:\\u001b\\[|\\u009b)[\\u0030-\\u003f]*[\\u0020-\\u002f]*[\\u0040-\\u007e]?',
    '(?:\\u001b[\\]PX^_]|[\\u0090\\u0098\\u009d\\u009e\\u009f])[^\\u0007\\u001b\\u009c]*(?:\\u0007|\\u001b\\\\|\\u009c)?',
    '\\u001b[\\u0020-\\u002f]*[\\u0030-\\u007e]?',
  ].join('|'),
  'g',
);
/**
 * What is left to drop: C0 controls (tab and newline included: a name is one line), DEL, C1 controls, the line and
 * paragraph separators, and the bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` without escape sequences or control characters (see the module comment); other text is unchanged. */
export function terminalSafe(text: string): string;
export function terminalSafe(text: string | undefined): string | undefined;
export function terminalSafe(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  return text.replace(ESCAPE_SEQUENCE, '').replace(UNSAFE, '');
}
