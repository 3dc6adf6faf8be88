export * from './free-port';
export * from './redis-server';
export * from './process';
export * from './sip-probe';
export * from './kamailio-config';
export * from './kamailio';
export * from './tls-cert';
