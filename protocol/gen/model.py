"""vk.xml + our Venus-private description -> one Python model.

Emitters only walk this model; nothing else parses XML. The model decides
which commands and structs the protocol carries (Vulkan core up to the
newest version vk.xml has, 1.3 or 1.4; the extensions of
protocol/extensions.txt that vk.xml knows; the private ones),
and classifies every member and parameter by how it travels on the wire
(shared docs venus/wire-format.md).
"""

import os
import re
import xml.etree.ElementTree as ET

CORE_VERSIONS = ('VK_VERSION_1_0', 'VK_VERSION_1_1', 'VK_VERSION_1_2', 'VK_VERSION_1_3',
                 'VK_VERSION_1_4')

# Core versions whose commands keep the name of the extension they were
# promoted from as their C name (vp_encode_vkCmdPushDescriptorSetKHR,
# vkr_exec_vkMapMemory2KHR ...): the hand-written code names them the same
# whichever registry the protocol is generated from (1.3.239 knows only the
# extension names). Their core names are aliases.
EXT_NAMED_VERSIONS = ('VK_VERSION_1_4',)

# scalar C types -> (wire size, C value size)
SCALARS = {
    'uint8_t': (4, 1), 'uint16_t': (4, 2), 'int32_t': (4, 4), 'uint32_t': (4, 4),
    'float': (4, 4), 'int64_t': (8, 8), 'uint64_t': (8, 8), 'size_t': (8, 8),
    'VkBool32': (4, 4), 'VkSampleMask': (4, 4), 'VkFlags': (4, 4), 'VkFlags64': (8, 8),
    'VkDeviceSize': (8, 8), 'VkDeviceAddress': (8, 8), 'int': (4, 4),
}

# Unions without a selector: the tag our encoder sends (shared docs
# wire-format.md §7; Mesa sends the raw-bits member).
UNION_DEFAULT_TAG = {
    'VkClearColorValue': 2,
    'VkClearValue': 0,
    'VkDeviceOrHostAddressKHR': 0,
    'VkDeviceOrHostAddressConstKHR': 0,
}


class Member:
    """A struct member or a command parameter."""

    def __init__(self, elem, owner):
        self.owner = owner
        self.name = elem.find('name').text
        self.type = elem.find('type').text
        text = (elem.text or '')
        for child in elem:
            if child.tag != 'comment':
                text += ''.join(child.itertext())
            text += child.tail or ''
        self.decl = ' '.join(text.split())
        decl = text[:text.index(self.name)]
        self.is_const = decl.strip().startswith('const')
        self.ptr = decl.count('*')
        # the second pointer level of "const T* const*" is const too
        self.dims = []
        tail = text[text.index(self.name) + len(self.name):]
        for d in re.findall(r'\[([^\]]+)\]', tail):
            self.dims.append(d)
        enum = elem.findall('enum')
        if enum:
            self.dims = [e.text for e in enum]
        self.bitfield = ':' in tail
        ln = elem.get('altlen') or elem.get('len')
        self.len = ln.split(',') if ln else []
        # A fixed-size array travels whole whatever its count member says
        # (wire-format.md §4.3; vk.xml 1.4 gives memoryTypes[] a len)
        if self.dims and not self.ptr:
            self.len = []
        self.raw_len = elem.get('len')
        opt = elem.get('optional')
        self.optional = [o == 'true' for o in opt.split(',')] if opt else []
        self.noautovalidity = elem.get('noautovalidity') == 'true'
        # private (venus_private*.xml): an input blob the decoder hands over
        # where it lies in the stream instead of copying it out
        self.inplace = elem.get('inplace') == 'true'
        self.values = elem.get('values')
        self.selector = elem.get('selector')
        self.selection = elem.get('selection')
        # filled by Model.classify()
        self.kind = None
        self.count_for = []   # members/params whose len names this one
        self.is_output = False

    @property
    def is_optional_ptr(self):
        return bool(self.optional and self.optional[0]) or self.noautovalidity

    @property
    def null_elements_allowed(self):
        """An array of handles whose elements may be VK_NULL_HANDLE: vk.xml
        marks the pointee optional ("false,true") or the validity as
        conditional (noautovalidity)."""
        return (len(self.optional) > 1 and self.optional[1]) or self.noautovalidity

    def __repr__(self):
        return '<%s %s %s>' % (self.kind, self.type, self.name)


class Type:
    def __init__(self, name, category):
        self.name = name
        self.category = category
        self.members = []
        self.alias = None
        self.returnedonly = False
        self.structextends = []
        self.stype = None          # VK_STRUCTURE_TYPE_* name
        self.dispatchable = False  # handles
        self.objtype = None        # VK_OBJECT_TYPE_* for handles
        self.width = 32            # enums / bitmasks
        self.requires = None
        self.ext = 0               # extension number that defines it (0 = core)
        self.version = None        # core version that defines it
        self.parent = None         # handles: parent handle type
        self.private = False       # from venus_private.xml


class Command:
    def __init__(self, name):
        self.name = name
        self.ret = 'void'
        self.params = []
        self.aliases = []
        self.value = None          # VkCommandTypeEXT value
        self.ext = 0
        self.version = None
        self.core_name = name      # its name in vk.xml's core <feature>
        self.private = False
        self.renderpass = None     # vkCmd*: 'inside', 'outside' or 'both'
        self.primary_only = False  # vkCmd*: cmdbufferlevel="primary"

    @property
    def enum_name(self):
        return 'VK_COMMAND_TYPE_%s_EXT' % self.name

    def outputs(self):
        return [p for p in self.params if p.is_output]


class Extension:
    def __init__(self, name, number, ext_type, spec):
        self.name = name
        self.number = number
        self.type = ext_type
        self.protocol_spec = spec
        self.driver_side = False
        self.types = []
        self.commands = []


class FormatInfo:
    def __init__(self, name):
        self.name = name
        self.block_size = 0
        self.block_extent = (1, 1, 1)
        self.depth_bytes = 0    # the depth aspect's bytes per texel in copies
        self.stencil_bytes = 0
        self.planes = []        # compatible format of each plane


def _api_ok(elem):
    api = elem.get('api')
    return api is None or 'vulkan' in api.split(',')


class Model:
    def __init__(self, vk_xml, proto_dir):
        self.types = {}
        self.commands = {}
        self.constants = {}
        self.stype_values = {}
        self.enum_values = {}       # enum type -> [(name, value)]
        self.extensions = {}        # name -> Extension (all of vk.xml)
        self.carried_exts = {}      # number -> Extension carried by the protocol
        self.missing_commands = []  # numbered but unknown to this vk.xml
        self.header_version = 0
        self.api_minor = 3          # VK_HEADER_VERSION_COMPLETE's minor
        self.formats = {}           # VkFormat name -> FormatInfo (vk.xml <formats>)

        root = ET.parse(vk_xml).getroot()
        self._parse(root, private=False)
        self._parse_formats(root)
        self._name_promoted()
        self._parse(ET.parse(os.path.join(proto_dir, 'venus_private.xml')).getroot(),
                    private=True)
        # the host image copy commands (297/298) name VkHostImageCopyFlagsEXT,
        # which only registries with VK_EXT_host_image_copy define
        self.host_copy = 'VkHostImageCopyFlagsEXT' in self.types
        if self.host_copy:
            self._parse(ET.parse(os.path.join(proto_dir, 'venus_private_host_copy.xml')).getroot(),
                        private=True)
        self._load_numbering(os.path.join(proto_dir, 'command_types.txt'))
        self._load_extensions(os.path.join(proto_dir, 'extensions.txt'))
        self._load_lens(os.path.join(proto_dir, 'lens.txt'))
        self._select()
        self.classify()

    # ------------------------------------------------------------------ parse
    def _parse(self, root, private):
        for t in root.iter('type'):
            if not _api_ok(t):
                continue
            self._parse_type(t)
            name = t.get('name') or (t.find('name').text if t.find('name') is not None else None)
            if private and name in self.types:
                self.types[name].private = True
        for enums in root.findall('enums'):
            name = enums.get('name')
            if name == 'API Constants':
                for e in enums.findall('enum'):
                    if e.get('value') is not None:
                        self.constants[e.get('name')] = e.get('value')
                    elif e.get('alias'):
                        self.constants[e.get('name')] = self.constants.get(e.get('alias'))
                continue
            vals = self.enum_values.setdefault(name, [])
            for e in enums.findall('enum'):
                if not _api_ok(e):
                    continue
                vals.append(self._enum_value(e, None))
            if enums.get('bitwidth') == '64' and name in self.types:
                self.types[name].width = 64
        cmds = root.find('commands')
        if cmds is not None:
            for c in cmds.findall('command'):
                if not _api_ok(c):
                    continue
                if c.get('alias'):
                    self._pending_alias = getattr(self, '_pending_alias', [])
                    self._pending_alias.append((c.get('name'), c.get('alias')))
                    continue
                proto = c.find('proto')
                cmd = Command(proto.find('name').text)
                cmd.ret = proto.find('type').text
                cmd.private = private
                cmd.renderpass = c.get('renderpass')
                cmd.primary_only = c.get('cmdbufferlevel') == 'primary'
                for p in c.findall('param'):
                    if _api_ok(p):
                        cmd.params.append(Member(p, cmd))
                self.commands[cmd.name] = cmd
        for name, target in getattr(self, '_pending_alias', []):
            if target in self.commands:
                self.commands[target].aliases.append(name)
        self._pending_alias = []
        for feat in root.findall('feature'):
            if not _api_ok(feat) or feat.get('name') not in CORE_VERSIONS:
                continue
            for req in feat.findall('require'):
                for e in req.findall('enum'):
                    if e.get('extends'):
                        self._extend_enum(e, int(e.get('extnumber', 0)))
                for t in req.findall('type'):
                    ty = self.types.get(t.get('name'))
                    if ty and ty.version is None:
                        ty.version = feat.get('name')
                for c in req.findall('command'):
                    cmd = self.commands.get(c.get('name'))
                    if cmd and cmd.version is None:
                        cmd.version = feat.get('name')
        exts = root.find('extensions')
        if exts is not None:
            for x in exts.findall('extension'):
                number = int(x.get('number'))
                ext = self.extensions.get(x.get('name')) if private else None
                if ext is None:  # a second private file adds to its extension
                    ext = Extension(x.get('name'), number, x.get('type'), 0)
                    supported = x.get('supported', '')
                    ext.supported = 'vulkan' in supported.split(',')
                    self.extensions[ext.name] = ext
                for req in x.findall('require'):
                    if not _api_ok(req):
                        continue
                    for e in req.findall('enum'):
                        if e.get('extends'):
                            self._extend_enum(e, number)
                    for t in req.findall('type'):
                        ext.types.append(t.get('name'))
                    for c in req.findall('command'):
                        ext.commands.append(c.get('name'))
        hv = root.find(".//type[@category='define']/name[.='VK_HEADER_VERSION']")
        for t in root.iter('type'):
            n = t.find('name')
            if n is None or not _api_ok(t):
                continue
            if n.text == 'VK_HEADER_VERSION':
                self.header_version = int(''.join(t.itertext()).split()[-1])
            elif n.text == 'VK_HEADER_VERSION_COMPLETE':
                m = re.search(r'\(\s*\w+\s*,\s*(\d+)\s*,\s*(\d+)\s*,', ''.join(t.itertext()))
                if m:
                    self.api_minor = int(m.group(2))

    def _parse_formats(self, root):
        """The size of a texel block as copies between images and memory
        address it, per format: block bytes and extent, the depth and stencil
        aspects' bytes, the planes' formats."""
        for f in root.iter('format'):
            info = FormatInfo(f.get('name'))
            info.block_size = int(f.get('blockSize'))
            if f.get('blockExtent'):
                info.block_extent = tuple(int(v) for v in f.get('blockExtent').split(','))
            for c in f.findall('component'):
                if c.get('name') == 'D':
                    info.depth_bytes = 2 if int(c.get('bits')) <= 16 else 4
                elif c.get('name') == 'S':
                    info.stencil_bytes = 1
            for pl in f.findall('plane'):
                info.planes.append(pl.get('compatible'))
            self.formats[info.name] = info

    def _name_promoted(self):
        """EXT_NAMED_VERSIONS: the C name of a promoted command is its alias
        from the lowest-numbered extension that has it."""
        for cmd in list(self.commands.values()):
            if cmd.version not in EXT_NAMED_VERSIONS:
                continue
            best = None
            for ext in self.extensions.values():
                if not ext.supported:
                    continue
                for a in cmd.aliases:
                    if a in ext.commands and (best is None or ext.number < best[0]):
                        best = (ext.number, a)
            if best is None:
                continue
            del self.commands[cmd.name]
            cmd.aliases = [cmd.name] + [a for a in cmd.aliases if a != best[1]]
            cmd.name = best[1]
            self.commands[cmd.name] = cmd

    def _enum_value(self, e, extnumber):
        name = e.get('name')
        if e.get('value') is not None:
            v = e.get('value')
            try:
                val = int(v, 0)
            except ValueError:
                val = v
            return (name, val)
        if e.get('bitpos') is not None:
            return (name, 1 << int(e.get('bitpos')))
        if e.get('offset') is not None:
            num = int(e.get('extnumber') or extnumber)
            val = 1000000000 + (num - 1) * 1000 + int(e.get('offset'))
            if e.get('dir') == '-':
                val = -val
            return (name, val)
        if e.get('alias'):
            return (name, e.get('alias'))
        return (name, None)

    def _extend_enum(self, e, extnumber):
        if not _api_ok(e):
            return
        name, val = self._enum_value(e, extnumber)
        vals = self.enum_values.setdefault(e.get('extends'), [])
        if all(n != name for n, _ in vals):
            vals.append((name, val))

    def _parse_type(self, t):
        cat = t.get('category')
        name = t.get('name') or (t.find('name').text if t.find('name') is not None else None)
        if name is None:
            return
        if t.get('alias'):
            ty = Type(name, cat)
            ty.alias = t.get('alias')
            self.types[name] = ty
            return
        if cat in ('struct', 'union'):
            ty = Type(name, cat)
            ty.returnedonly = t.get('returnedonly') == 'true'
            ty.structextends = t.get('structextends').split(',') if t.get('structextends') else []
            for m in t.findall('member'):
                if not _api_ok(m):
                    continue
                mem = Member(m, ty)
                ty.members.append(mem)
                if mem.name == 'sType' and mem.values:
                    ty.stype = mem.values
            self.types[name] = ty
        elif cat == 'handle':
            ty = Type(name, cat)
            text = ''.join(t.itertext())
            ty.dispatchable = 'VK_DEFINE_HANDLE(' in text
            ty.objtype = t.get('objtypeenum')
            ty.parent = t.get('parent')
            self.types[name] = ty
        elif cat in ('enum', 'bitmask', 'basetype', 'funcpointer', 'define', 'include'):
            ty = Type(name, cat)
            if cat == 'bitmask':
                text = ''.join(t.itertext())
                ty.width = 64 if 'VkFlags64' in text else 32
                ty.requires = t.get('requires') or t.get('bitvalues')
            self.types[name] = ty
        elif t.get('requires') and cat is None:
            self.types[name] = Type(name, 'platform')

    # ------------------------------------------------------------ selection
    def _load_numbering(self, path):
        self.numbering = {}
        for line in open(path):
            line = line.split('#')[0].split()
            if not line:
                continue
            value = int(line[0])
            names = line[1:]
            self.numbering[value] = names
            # The first name may be newer than this vk.xml (a promoted or
            # renamed command): fall back to the first alias it knows.
            known = [n for n in names if n in self.commands]
            if not known:
                self.missing_commands.append((value, names[0]))
                continue
            cmd = self.commands[known[0]]
            cmd.value = value
            for a in names:
                if a != cmd.name and a not in cmd.aliases:
                    cmd.aliases.append(a)

    def _load_extensions(self, path):
        self.protocol_exts = {}
        for line in open(path):
            f = line.split('#')[0].split()
            if not f:
                continue
            number, name, spec = int(f[0]), f[1], int(f[2])
            self.protocol_exts[name] = (number, spec, 'driver-side' in f[3:])
            ext = self.extensions.get(name)
            if ext is None or not ext.supported:
                continue
            ext.protocol_spec = spec
            ext.driver_side = 'driver-side' in f[3:]
            self.carried_exts[number] = ext

    def _load_lens(self, path):
        for line in open(path):
            f = line.split('#')[0].split()
            if len(f) != 3:
                continue
            cmd = self.commands.get(f[0])
            ty = self.types.get(f[0]) if cmd is None else None
            for p in cmd.params if cmd else (ty.members if ty else []):
                if p.name == f[1]:
                    p.len = f[2].split(',')

    def resolve(self, name):
        ty = self.types.get(name)
        seen = 0
        while ty is not None and ty.alias and seen < 8:
            ty = self.types.get(ty.alias)
            seen += 1
        return ty

    def _select(self):
        for ext in sorted(self.carried_exts.values(), key=lambda e: e.number):
            for tn in ext.types:
                ty = self.types.get(tn)
                if ty and not ty.version and not ty.ext:
                    ty.ext = ext.number
                # promoted to EXT_NAMED_VERSIONS: also the extension's (the
                # driver exposes it with the extension on older hosts)
                ty = self.resolve(tn)
                if ty and ty.version in EXT_NAMED_VERSIONS and not ty.ext:
                    ty.ext = ext.number
            for cn in ext.commands:
                cmd = self.commands.get(cn)
                if cmd and not cmd.ext and (not cmd.version or cmd.version in EXT_NAMED_VERSIONS):
                    cmd.ext = ext.number
        # the carried commands: numbered, and core or from a carried extension
        self.carried_commands = []
        for value in sorted(self.numbering):
            known = [n for n in self.numbering[value] if n in self.commands]
            cmd = self.commands[known[0]] if known else None
            if cmd is None:
                continue
            if cmd.version or cmd.ext:
                self.carried_commands.append(cmd)
            else:
                self.missing_commands.append((value, cmd.name + ' (extension not carried)'))

    def is_carried_type(self, ty):
        return bool(ty.version or ty.ext)

    def chain_members(self, base):
        """Structs that may appear in base's pNext chain on the wire."""
        out = []
        for ty in self.types.values():
            if ty.category != 'struct' or ty.alias or not ty.stype:
                continue
            if base.name in ty.structextends and self.is_carried_type(ty):
                out.append(ty)
        # stable order: by sType value
        out.sort(key=lambda t: self.stype_value(t.stype))
        return out

    def stype_value(self, name):
        vals = dict(self.enum_values.get('VkStructureType', []))
        v = vals.get(name)
        seen = 0
        while isinstance(v, str) and seen < 8:
            v = vals.get(v)
            seen += 1
        return v if isinstance(v, int) else 0

    def const_value(self, name):
        v = self.constants.get(name, name)
        return int(str(v).rstrip('U'), 0)

    # --------------------------------------------------------- classify
    def scalar_info(self, type_name):
        """(wire size, value size) for scalar-like types, else None."""
        if type_name in SCALARS:
            return SCALARS[type_name]
        ty = self.resolve(type_name)
        if ty is None:
            return None
        if ty.category == 'enum':
            w = 8 if self.types.get(type_name).width == 64 else 4
            return (w, w)
        if ty.category == 'bitmask':
            return (8, 8) if ty.width == 64 else (4, 4)
        if ty.category == 'basetype' and ty.name in SCALARS:
            return SCALARS[ty.name]
        return None

    def classify_member(self, m, siblings, in_command):
        t = self.resolve(m.type)
        cat = t.category if t else None
        if m.name == 'pNext' and m.type == 'void':
            return 'chain'
        if m.type == 'VkAllocationCallbacks':
            return 'allocator'
        if m.ptr == 0:
            if m.bitfield:
                return 'unsupported'
            if m.dims:
                if m.type == 'char':
                    return 'fixed_string'
                if m.type == 'uint8_t':
                    return 'fixed_bytes'
                if len(m.dims) > 1:
                    return 'unsupported'
                return 'fixed_array'
            if cat == 'handle':
                return 'handle'
            if cat == 'struct':
                return 'struct'
            if cat == 'union':
                return 'union'
            if self.scalar_info(m.type):
                return 'scalar'
            return 'unsupported'
        if m.ptr == 1:
            if m.type == 'char' and m.len and m.len[0] == 'null-terminated':
                return 'string'
            if m.type == 'void':
                if m.len:
                    return 'blob'
                # host addresses (VkDeviceOrHostAddress*KHR::hostAddress,
                # capture-replay handles): only a NULL marker travels
                return 'host_pointer' if isinstance(m.owner, Type) else 'unsupported'
            if m.type == 'uint8_t' and m.len:
                return 'blob' if m.is_const else 'out_blob'
            if m.type == 'void' or cat == 'funcpointer' or \
                    (cat == 'platform' or t is None) and not self.scalar_info(m.type):
                return 'unsupported'
            if m.len:
                return 'array'
            return 'pointer'
        if m.ptr == 2:
            if m.type == 'char' and len(m.len) == 2 and m.len[1] == 'null-terminated':
                return 'string_array'
            if len(m.len) == 2 and '[]' in m.len[1] and m.is_const:
                return 'nested_array'
            if len(m.len) == 2 and m.len[1] == '1' and m.is_const and \
                    self.resolve(m.type) and self.resolve(m.type).category == 'struct':
                return 'pointer_array'
            return 'unsupported'
        return 'unsupported'

    def classify(self):
        self.unsupported = []
        for ty in self.types.values():
            if ty.category in ('struct', 'union') and not ty.alias:
                names = {mm.name for mm in ty.members}
                for m in ty.members:
                    m.kind = self.classify_member(m, names, False)
                    for ln in m.len:
                        base = ln.split('->')[0].strip()
                        for other in ty.members:
                            if other.name == base:
                                other.count_for.append(m)
        for cmd in self.commands.values():
            names = {p.name for p in cmd.params}
            for p in cmd.params:
                p.kind = self.classify_member(p, names, True)
                p.is_output = p.ptr >= 1 and not p.is_const and p.kind not in ('allocator',)
                for ln in p.len:
                    base = ln.split('->')[0].strip()
                    for other in cmd.params:
                        if other.name == base:
                            other.count_for.append(p)
        # reachability from carried commands
        self.structs = {}
        work = []

        def reach(type_name):
            ty = self.resolve(type_name)
            if ty is None or ty.category not in ('struct', 'union') or \
                    ty.name == 'VkAllocationCallbacks':
                return
            if ty.name not in self.structs:
                self.structs[ty.name] = ty
                work.append(ty)

        for cmd in self.carried_commands:
            for p in cmd.params:
                reach(p.type)
        while work:
            ty = work.pop()
            for m in ty.members:
                reach(m.type)
            if ty.stype:
                for ext in self.chain_members(ty):
                    reach(ext.name)
        # commands/structs using something we cannot put on the wire
        self.bad_structs = set()
        changed = True
        while changed:
            changed = False
            for ty in self.structs.values():
                if ty.name in self.bad_structs:
                    continue
                for m in ty.members:
                    if m.kind == 'unsupported' or self.resolve(m.type) and \
                            self.resolve(m.type).name in self.bad_structs:
                        self.bad_structs.add(ty.name)
                        changed = True
                        break
        self.commands_out = []
        for cmd in self.carried_commands:
            if cmd.ret.startswith('PFN_'):
                # vkGet*ProcAddr: answered by each side locally, never encoded
                self.unsupported.append((cmd.name, ['return type ' + cmd.ret]))
                continue
            bad = [p for p in cmd.params if p.kind == 'unsupported' or
                   (self.resolve(p.type) and self.resolve(p.type).name in self.bad_structs)]
            if bad:
                self.unsupported.append((cmd.name, [p.name for p in bad]))
            else:
                self.commands_out.append(cmd)
        self.struct_list = sorted((t for t in self.structs.values()
                                   if t.name not in self.bad_structs), key=lambda t: t.name)

    # ----------------------------------------------------------- helpers
    def has_handles(self, ty, seen=None):
        """Does struct/union ty (transitively, including its chain) hold handles?"""
        if seen is None:
            seen = set()
        if ty.name in seen:
            return False
        seen.add(ty.name)
        for m in ty.members:
            if m.kind == 'chain':
                for ext in self.chain_members(ty):
                    if ext.name not in self.bad_structs and self.has_handles(ext, seen):
                        return True
                continue
            rt = self.resolve(m.type)
            if rt is None:
                continue
            if rt.category == 'handle':
                return True
            if rt.category in ('struct', 'union') and self.has_handles(rt, seen):
                return True
        return False
