/* tessera-core.h: the whole core in one include
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "tessera-agent.h"
#include "tessera-agent-sync.h"
#include "tessera-certificate.h"
#include "tessera-doctor.h"
#include "tessera-error.h"
#include "tessera-key.h"
#include "tessera-key-generation.h"
#include "tessera-module.h"
#include "tessera-object.h"
#include "tessera-pin-store.h"
#include "tessera-registry.h"
#include "tessera-software-token.h"
#include "tessera-ssh.h"
#include "tessera-token.h"
#include "tessera-token-editing.h"
#include "tessera-token-lifecycle.h"
#include "tessera-types.h"
