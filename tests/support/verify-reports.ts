/** A verification compare's export: its header row, in the fixed order people read it in (what the file must say, written out here). */
export const VERIFY_COMPARE_HEADER = [
  'Floor',
  'Rack',
  'Item code',
  'Item',
  'Difference',
  'Counted in A',
  'Counted in B',
  'Counted change',
  'Damaged in A',
  'Damaged in B',
  'Damaged change',
  'Serials added',
  'Serials removed',
];
