/** DI tokens of the emulator app. */
export const EMULATOR_CORE = Symbol('EMULATOR_CORE');
export const EMULATOR_LOGGER = Symbol('EMULATOR_LOGGER');
