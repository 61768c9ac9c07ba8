/**
 * Environment the handlers see while benchmarked, set before any of them is imported (import this
 * module first): JSON logs as in Lambda (a terminal would otherwise get the shorter pretty format and
 * the log-byte figures would be wrong), at the Lambda default level. Child processes inherit it.
 */
process.env.LOG_FORMAT = 'json';
process.env.LOG_LEVEL ??= 'info';

// The SDK warns on Node < 22 (Lambda runs 22+); keep its banner out of the tables.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
