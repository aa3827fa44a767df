import { version } from '../../../package.json';

/** The version this build carries (package.json's, which electron-builder also stamps on the app). */
export const APP_VERSION: string = version;
