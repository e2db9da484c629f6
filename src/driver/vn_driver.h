/*
 * Everything the generated driver code needs (vn_commands_gen.c).
 */
#ifndef VN_DRIVER_H
#define VN_DRIVER_H

#include "vn_command_buffer.h"
#include "vn_common.h"
#include "vn_device.h"
#include "vn_instance.h"
#include "vn_memory.h"
#include "vn_queue.h"
#include "vn_ring.h"

#endif
