export * from './audio/tone';
export * from './audio/opus';
