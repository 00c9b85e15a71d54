/*
 * common.h: the first include of every itsup source file. System headers,
 * then banned.h, so that banned functions cannot be used below.
 */
#ifndef ITSUP_COMMON_H
#define ITSUP_COMMON_H

#define _GNU_SOURCE 1

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define UNUSED(x) ((void)(x))

#include "banned.h"

#endif
