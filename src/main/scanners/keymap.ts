/**
 * HID keyboard usage IDs (USB HID Usage Tables, page 0x07) to characters, US layout:
 * [unshifted, shifted]. A station with another keyboard layout configured in its scanners
 * (e.g. AZERTY) overrides entries with `layoutOverrides`.
 */
export type KeyMap = Record<number, readonly [string, string]>;

const letters: KeyMap = {};
for (let i = 0; i < 26; i++) {
  const c = String.fromCharCode(97 + i);
  letters[0x04 + i] = [c, c.toUpperCase()];
}

export const US_LAYOUT: KeyMap = {
  ...letters,
  0x1e: ['1', '!'],
  0x1f: ['2', '@'],
  0x20: ['3', '#'],
  0x21: ['4', '$'],
  0x22: ['5', '%'],
  0x23: ['6', '^'],
  0x24: ['7', '&'],
  0x25: ['8', '*'],
  0x26: ['9', '('],
  0x27: ['0', ')'],
  0x2c: [' ', ' '],
  0x2d: ['-', '_'],
  0x2e: ['=', '+'],
  0x2f: ['[', '{'],
  0x30: [']', '}'],
  0x31: ['\\', '|'],
  0x33: [';', ':'],
  0x34: ["'", '"'],
  0x35: ['`', '~'],
  0x36: [',', '<'],
  0x37: ['.', '>'],
  0x38: ['/', '?'],
  // Keypad, which some scanners use for digits.
  0x54: ['/', '/'],
  0x55: ['*', '*'],
  0x56: ['-', '-'],
  0x57: ['+', '+'],
  0x59: ['1', '1'],
  0x5a: ['2', '2'],
  0x5b: ['3', '3'],
  0x5c: ['4', '4'],
  0x5d: ['5', '5'],
  0x5e: ['6', '6'],
  0x5f: ['7', '7'],
  0x60: ['8', '8'],
  0x61: ['9', '9'],
  0x62: ['0', '0'],
  0x63: ['.', '.'],
};

export const KEY = { ENTER: 0x28, KEYPAD_ENTER: 0x58, TAB: 0x2b, CAPS_LOCK: 0x39, CLOSE_BRACKET: 0x30, FIVE: 0x22 } as const;

/** Modifier byte bits of a boot keyboard report. */
export const MOD = { L_CTRL: 0x01, L_SHIFT: 0x02, R_CTRL: 0x10, R_SHIFT: 0x20 } as const;
