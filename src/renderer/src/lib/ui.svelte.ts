import type { ScreenId } from './navigation';

/** The screen on view in this window: USB scanner reads go to it when their target allows. */
export const ui = $state({ screen: null as ScreenId | null });
