"""Emits the generated round-trip test (tests/unit/test_roundtrip.c uses it).

For every carried command: build a randomized valid call (arrays, optional
pointers, pNext chains with several known structs), encode it with the driver
encoder, decode it with the renderer decoder and compare every field; then
fill the renderer's outputs, encode the reply, decode it with the driver's
reply decoder and compare every output field.
"""

import re

from emit_protocol import BANNER, Emitter as ProtocolEmitter
from model import UNION_DEFAULT_TAG

OUTPUTS = {'vp_roundtrip_gen.c': ('tests', 'emit_roundtrip'),
           'vp_stub_handlers_gen.c': ('tests', 'emit_stub_handlers')}

SAMPLE_COUNT_LEN = re.compile(r'^\((\w+) \+ 31\) / 32$')


class Emitter(ProtocolEmitter):
    def __init__(self, model):
        super().__init__(model)
        # struct members that size an array of a command (pAllocateInfo->x)
        self.cross_counts = set()
        for cmd in self.commands:
            for p in cmd.params:
                for ln in p.len:
                    if '->' in ln:
                        base, member = [x.strip() for x in ln.split('->', 1)]
                        for q in cmd.params:
                            if q.name == base:
                                self.cross_counts.add((self.rt(q.type).name, member))

    # which sibling controls an array length, and how
    def controls(self, members):
        ctl = {}
        for mm in members:
            if not mm.len or mm.kind in ('string',):
                continue
            ln = mm.len[0]
            if ln in ('null-terminated',):
                continue
            mo = SAMPLE_COUNT_LEN.match(ln)
            if mo:
                ctl[mo.group(1)] = 'samples'
                continue
            if ln.endswith(' / 4'):
                ctl[ln[:-4].strip()] = 'mul4'
                continue
            base = ln.split('->')[0].strip()
            if re.match(r'^\w+$', base) and any(x.name == base for x in members):
                if '->' not in ln:
                    ctl[base] = 'count'
        return ctl

    # ------------------------------------------------------------ fill
    def fill_value(self, m, x, members, prefix, depth, ctl):
        """Driver-side random input for item m stored at lvalue x."""
        k = m.kind
        t = self.rt(m.type)
        cat = self.cat(m)
        tn = m.type
        L = []
        if k == 'scalar':
            c = ctl.get(m.name)
            if c == 'count':
                L.append('%s = rt_count(r);' % x)
            elif c == 'mul4':
                L.append('%s = 4 * rt_count(r);' % x)
            elif c == 'samples':
                L.append('%s = (%s)(1u << (rt_u32(r) %% 7));' % (x, tn))
            else:
                w, vs = self.scalar(tn)
                L.append('rt_bytes(r, &%s, %d);' % (x, vs))
        elif k == 'handle':
            L.append('%s = (%s)rt_guest(r);' % (x, tn))
        elif k == 'struct':
            L.append('rt_fill_%s(r, &%s, %d);' % (t.name, x, depth + 1))
        elif k == 'union':
            if m.selector:
                L.append('%s%s = (%s)rt_fill_%s_any(r, &%s, %d);' % (prefix, m.selector,
                         self.selector_type(members, m.selector), t.name, x, depth + 1))
            else:
                L.append('rt_fill_%s_tag(r, &%s, %d, %d);' % (t.name, x, UNION_DEFAULT_TAG.get(t.name, 0), depth + 1))
        elif k in ('fixed_string',):
            n = self.m.const_value(m.dims[0])
            L.append('rt_string_into(r, %s, %d);' % (x, n))
        elif k == 'fixed_bytes':
            n = self.m.const_value(m.dims[0])
            L.append('rt_bytes(r, %s, %d);' % (x, n))
        elif k == 'fixed_array':
            n = self.m.const_value(m.dims[0])
            if cat == 'handle':
                L.append('for (uint32_t i = 0; i < %d; i++) %s[i] = (%s)rt_guest(r);' % (n, x, tn))
            elif self.scalar(tn):
                L.append('rt_bytes(r, %s, sizeof(%s));' % (x, x))
            else:
                L.append('for (uint32_t i = 0; i < %d; i++) rt_fill_%s(r, &%s[i], %d);' % (n, t.name, x, depth + 1))
        elif k == 'string':
            L.append('%s = rt_optional(r, %d) ? NULL : rt_string(r);' % (x, 1 if m.is_optional_ptr else 0))
        elif k == 'string_array':
            n = self.len_expr(m, prefix, members)
            L.append('{')
            L.append('   const char **a = rt_alloc(r, sizeof(char *) * (%s + 1));' % n)
            L.append('   for (uint32_t i = 0; i < %s; i++) a[i] = rt_string(r);' % n)
            L.append('   %s = a;' % x)
            L.append('}')
        elif k in ('allocator', 'host_pointer'):
            L.append('%s = NULL;' % x)
        elif k == 'blob':
            n = self.len_expr(m, prefix, members)
            L.append('{')
            L.append('   void *p = rt_alloc(r, %s + 1);' % n)
            L.append('   rt_bytes(r, p, %s);' % n)
            if m.is_optional_ptr:
                L.append('   %s = (%s && !rt_optional(r, 1)) ? p : NULL;' % (x, n))
            else:
                L.append('   %s = p;' % x)
            L.append('}')
        elif k == 'pointer':
            base = tn
            L.append('if (%s || !rt_optional(r, %d)) {' % ('0' if m.is_optional_ptr else '1',
                                                          1 if m.is_optional_ptr else 0))
            L.append('   %s *p = rt_alloc(r, sizeof(*p));' % base)
            if cat == 'handle':
                L.append('   *p = (%s)rt_guest(r);' % tn)
            elif self.scalar(tn):
                L.append('   rt_bytes(r, p, sizeof(*p));')
            else:
                L.append('   rt_fill_%s(r, p, %d);' % (t.name, depth + 1))
            L.append('   %s = p;' % x)
            L.append('} else {')
            L.append('   %s = NULL;' % x)
            L.append('}')
        elif k == 'array':
            n = self.len_expr(m, prefix, members)
            L.append('{')
            L.append('   const uint32_t n = %s;' % n)
            L.append('   %s *p = rt_alloc(r, sizeof(*p) * (n + 1));' % tn)
            if cat == 'handle':
                L.append('   for (uint32_t i = 0; i < n; i++) p[i] = (%s)rt_guest(r);' % tn)
            elif self.scalar(tn):
                L.append('   rt_bytes(r, p, sizeof(*p) * n);')
            else:
                L.append('   for (uint32_t i = 0; i < n; i++) rt_fill_%s(r, &p[i], %d);' % (t.name, depth + 1))
            if m.is_optional_ptr:
                L.append('   %s = rt_optional(r, 1) ? NULL : p;' % x)
            else:
                L.append('   %s = p;' % x)
            L.append('}')
        elif k == 'pointer_array':
            L.append('%s = NULL;' % x)
        elif k == 'nested_array':
            n = self.len_expr(m, prefix, members)
            inner = self.inner_len_expr(m, prefix, 'i')
            L.append('{')
            L.append('   const uint32_t n = %s;' % n)
            L.append('   const %s **p = rt_alloc(r, sizeof(*p) * (n + 1));' % tn)
            L.append('   for (uint32_t i = 0; i < n; i++) {')
            L.append('      %s *e = rt_alloc(r, sizeof(*e) * (%s + 1));' % (tn, inner))
            if self.scalar(tn):
                L.append('      rt_bytes(r, e, sizeof(*e) * %s);' % inner)
            else:
                L.append('      for (uint32_t j = 0; j < %s; j++) rt_fill_%s(r, &e[j], %d);' % (inner, t.name, depth + 1))
            L.append('      p[i] = e;')
            L.append('   }')
            L.append('   %s = p;' % x)
            L.append('}')
        elif k == 'chain':
            pass
        else:
            raise Exception('fill %s' % k)
        return L

    def selector_type(self, members, sel):
        for mm in members:
            if mm.name == sel:
                return mm.type
        return 'uint32_t'

    def fill_out_skeleton(self, m, x, members, prefix, depth):
        """Driver-side storage for an output param/member (what the app passes)."""
        k = m.kind
        t = self.rt(m.type)
        cat = self.cat(m)
        tn = m.type
        L = []
        if k == 'pointer':
            L.append('{')
            L.append('   %s *p = rt_alloc(r, sizeof(*p));' % tn)
            if cat == 'handle':
                L.append('   *p = (%s)rt_guest(r);' % tn)
            elif self.scalar(tn):
                if m.count_for:
                    L.append('   *p = rt_count(r);')
            else:
                L.append('   rt_skel_%s(r, p, %d);' % (t.name, depth + 1))
            L.append('   %s = p;' % x)
            L.append('}')
        elif k == 'array':
            n = self.len_expr(m, prefix, members)
            L.append('{')
            L.append('   const uint32_t n = %s;' % n)
            L.append('   %s *p = rt_alloc(r, sizeof(*p) * (n + 1));' % tn)
            if cat == 'handle':
                L.append('   for (uint32_t i = 0; i < n; i++) p[i] = (%s)rt_guest(r);' % tn)
            elif not self.scalar(tn):
                L.append('   for (uint32_t i = 0; i < n; i++) rt_skel_%s(r, &p[i], %d);' % (t.name, depth + 1))
            L.append('   %s = p;' % x)
            L.append('}')
        elif k == 'blob':
            n = self.len_expr(m, prefix, members)
            L.append('%s = rt_alloc(r, %s + 1);' % (x, n))
        else:
            raise Exception('skel %s' % k)
        return L

    # skeleton of an output struct: sType, chain, counts of inner arrays
    def emit_skel(self, ty):
        n = ty.name
        out = ['static void\nrt_skel_%s(struct rt *r, %s *val, int depth)\n{' % (n, n)]
        out.append('   (void)r; (void)depth;')
        if ty.category == 'union':
            out.append('   memset(val, 0, sizeof(*val));\n}\n')
            return out
        if ty.stype:
            out.append('   val->sType = %s;' % ty.stype)
            out.append('   val->pNext = rt_chain_%s(r, depth, true);' % n)
        for mm in self.self_members(ty) if ty.stype else ty.members:
            if mm.kind == 'struct':
                out.append('   rt_skel_%s(r, &val->%s, depth + 1);' % (self.rt(mm.type).name, mm.name))
            elif mm.kind == 'fixed_array' and self.cat(mm) in ('struct',):
                nn = self.m.const_value(mm.dims[0])
                out.append('   for (uint32_t i = 0; i < %d; i++) rt_skel_%s(r, &val->%s[i], depth + 1);'
                           % (nn, self.rt(mm.type).name, mm.name))
            elif mm.kind == 'scalar' and mm.count_for:
                out.append('   val->%s = rt_count(r);' % mm.name)
            elif mm.kind == 'array':
                nexpr = self.len_expr(mm, 'val->', ty.members)
                out.append('   {')
                out.append('      const uint32_t n = %s;' % nexpr)
                out.append('      %s *p = rt_alloc(r, sizeof(*p) * (n + 1));' % mm.type)
                if self.cat(mm) == 'struct':
                    out.append('      for (uint32_t i = 0; i < n; i++) rt_skel_%s(r, &p[i], depth + 1);'
                               % self.rt(mm.type).name)
                out.append('      val->%s = p;' % mm.name)
                out.append('   }')
        out.append('}\n')
        return out

    # fill the renderer's output data (what the host driver would write)
    def emit_outfill(self, ty):
        n = ty.name
        out = ['static void\nrt_outfill_%s(struct rt *r, %s *val)\n{' % (n, n)]
        out.append('   (void)r;')
        if ty.category == 'union':
            out.append('   rt_bytes(r, val, sizeof(*val));\n}\n')
            return out
        if ty.stype:
            out.append('   for (VkBaseOutStructure *l = (void *)val->pNext; l; l = l->pNext) {')
            out.append('      switch ((int32_t)l->sType) {')
            for c in self.chain(ty):
                out.append('      case %s: rt_outfill_%s_self(r, (%s *)l); break;' % (c.stype, c.name, c.name))
            out.append('      default: break;')
            out.append('      }')
            out.append('   }')
            out.append('   rt_outfill_%s_self(r, val);\n}\n' % n)
            out.append('static void\nrt_outfill_%s_self(struct rt *r, %s *val)\n{' % (n, n))
            out.append('   (void)r; (void)val;')
        for mm in self.self_members(ty) if ty.stype else ty.members:
            x = 'val->' + mm.name
            k = mm.kind
            if k == 'scalar' and not mm.count_for:
                out.append('   rt_bytes(r, &%s, sizeof(%s));' % (x, x))
            elif k in ('fixed_string',):
                out.append('   rt_string_into(r, %s, sizeof(%s));' % (x, x))
            elif k == 'fixed_bytes':
                out.append('   rt_bytes(r, %s, sizeof(%s));' % (x, x))
            elif k == 'fixed_array':
                if self.cat(mm) == 'handle':
                    out.append('   for (uint32_t i = 0; i < %d; i++) %s[i] = (%s)(uintptr_t)rt_id(r);'
                               % (self.m.const_value(mm.dims[0]), x, mm.type))
                elif self.scalar(mm.type):
                    out.append('   rt_bytes(r, %s, sizeof(%s));' % (x, x))
                else:
                    out.append('   for (uint32_t i = 0; i < %d; i++) rt_outfill_%s(r, &%s[i]);'
                               % (self.m.const_value(mm.dims[0]), self.rt(mm.type).name, x))
            elif k == 'handle':
                out.append('   %s = (%s)(uintptr_t)rt_id(r);' % (x, mm.type))
            elif k == 'struct':
                out.append('   rt_outfill_%s(r, &%s);' % (self.rt(mm.type).name, x))
            elif k == 'union':
                out.append('   rt_bytes(r, &%s, sizeof(%s));' % (x, x))
            elif k == 'array' and x:
                nexpr = self.len_expr(mm, 'val->', ty.members)
                tn = mm.type
                out.append('   if (%s) {' % x)
                if self.scalar(tn):
                    out.append('      rt_bytes(r, (void *)%s, sizeof(%s[0]) * %s);' % (x, x, nexpr))
                elif self.cat(mm) == 'struct':
                    out.append('      for (uint32_t i = 0; i < %s; i++) rt_outfill_%s(r, (%s *)&%s[i]);'
                               % (nexpr, self.rt(tn).name, tn, x))
                out.append('   }')
        out.append('}\n')
        return out

    def emit_fill(self, ty):
        n = ty.name
        out = []
        if ty.category == 'union':
            out.append('static void\nrt_fill_%s_tag(struct rt *r, %s *val, uint32_t tag, int depth)\n{' % (n, n))
            out.append('   (void)depth;')
            out.append('   memset(val, 0, sizeof(*val));')
            out.append('   switch (tag) {')
            for i, mm in enumerate(ty.members):
                out.append('   case %s:' % self.union_tag(ty, i, mm))
                for l in self.fill_value(mm, 'val->' + mm.name, ty.members, 'val->', 0, {}):
                    out.append('      ' + l)
                out.append('      break;')
            out.append('   default: break;\n   }\n}\n')
            out.append('static uint32_t\nrt_fill_%s_any(struct rt *r, %s *val, int depth)\n{' % (n, n))
            tags = [self.union_tag(ty, i, mm) for i, mm in enumerate(ty.members)]
            out.append('   static const uint32_t tags[] = { %s };' % ', '.join(tags))
            out.append('   const uint32_t tag = tags[rt_u32(r) %% %d];' % len(tags))
            out.append('   rt_fill_%s_tag(r, val, tag, depth);' % n)
            out.append('   return tag;\n}\n')
            out.append('static void\nrt_fill_%s(struct rt *r, %s *val, int depth)\n{' % (n, n))
            out.append('   rt_fill_%s_tag(r, val, %d, depth);\n}\n' % (n, UNION_DEFAULT_TAG.get(n, 0)))
            return out
        ctl = self.controls(ty.members)
        for sname, member in self.cross_counts:
            if sname == n:
                ctl[member] = 'count'
        out.append('static void\nrt_fill_%s(struct rt *r, %s *val, int depth)\n{' % (n, n))
        out.append('   memset(val, 0, sizeof(*val));')
        out.append('   if (depth > 6) return;')
        if ty.stype:
            out.append('   val->sType = %s;' % ty.stype)
            out.append('   val->pNext = rt_chain_%s(r, depth, false);' % n)
            out.append('   rt_fill_%s_self(r, val, depth);\n}\n' % n)
            out.append('static void\nrt_fill_%s_self(struct rt *r, %s *val, int depth)\n{' % (n, n))
            out.append('   (void)r; (void)val; (void)depth;')
        for mm in (self.self_members(ty) if ty.stype else ty.members):
            for l in self.fill_value(mm, 'val->' + mm.name, ty.members, 'val->', 0, ctl):
                out.append('   ' + l.replace('%d);' % 1, '%d);' % 1))
        out.append('}\n')
        # chain builder
        if ty.stype:
            chain = self.chain(ty)
            out.append('static void *\nrt_chain_%s(struct rt *r, int depth, bool output)\n{' % n)
            out.append('   (void)r; (void)depth; (void)output;')
            if chain:
                out.append('   if (depth > 3) return NULL;')
                out.append('   void *head = NULL;')
                out.append('   VkBaseOutStructure *tail = NULL;')
                out.append('   const unsigned links = rt_u32(r) % 4;')
                out.append('   for (unsigned l = 0; l < links; l++) {')
                out.append('      VkBaseOutStructure *s = NULL;')
                out.append('      switch (rt_u32(r) %% %d) {' % len(chain))
                for i, c in enumerate(chain):
                    out.append('      case %d: {' % i)
                    out.append('         if (rt_chain_has(head, %s)) break;' % c.stype)
                    out.append('         %s *p = rt_alloc(r, sizeof(*p));' % c.name)
                    out.append('         if (output) { rt_skel_%s(r, p, depth + 1); p->pNext = NULL; }' % c.name)
                    out.append('         else { p->sType = %s; rt_fill_%s_self(r, p, depth + 1); }' % (c.stype, c.name))
                    out.append('         s = (VkBaseOutStructure *)p;')
                    out.append('         break;')
                    out.append('      }')
                out.append('      default: break;')
                out.append('      }')
                out.append('      if (!s) continue;')
                out.append('      if (tail) tail->pNext = s; else head = s;')
                out.append('      tail = s;')
                out.append('   }')
                out.append('   return head;')
            else:
                out.append('   return NULL;')
            out.append('}\n')
        return out

    # ---------------------------------------------------------- compare
    def cmp_item(self, m, a, b, members, pa, pb, mode):
        """mode 'in': a guest input, b host decoded. 'out': a host output,
        b driver decoded. 'skel': a guest output skeleton, b host partial."""
        k = m.kind
        t = self.rt(m.type)
        cat = self.cat(m)
        tn = m.type
        L = []
        path = '"%s"' % m.name
        if mode == 'skel':
            if k == 'struct':
                L.append('rt_skelcmp_%s(r, &%s, &%s);' % (t.name, a, b))
            elif k == 'fixed_array' and cat == 'struct':
                n = self.m.const_value(m.dims[0])
                L.append('for (uint32_t i = 0; i < %d; i++) rt_skelcmp_%s(r, &%s[i], &%s[i]);' % (n, t.name, a, b))
            elif k == 'scalar' and m.count_for:
                L.append('RT_EQ(r, %s, %s, %s);' % (a, b, path))
            elif k == 'array':
                n = self.len_expr(m, pa, members)
                L.append('if (%s && %s) {' % (a, n))
                L.append('   RT_TRUE(r, %s != NULL, %s);' % (b, path))
                if cat == 'struct':
                    L.append('   if (%s) for (uint32_t i = 0; i < %s; i++) rt_skelcmp_%s(r, &%s[i], &%s[i]);'
                             % (b, n, t.name, a, b))
                L.append('}')
            return L
        if k == 'scalar':
            w, vs = self.scalar(tn)
            L.append('RT_MEM(r, &%s, &%s, %d, %s);' % (a, b, vs, path))
        elif k == 'handle':
            if mode == 'in':
                L.append('RT_EQ(r, rt_gid((uint64_t)(uintptr_t)%s), rt_hid((uint64_t)(uintptr_t)%s), %s);' % (a, b, path))
            else:
                L.append('RT_EQ(r, (uint64_t)(uintptr_t)%s, rt_gid((uint64_t)(uintptr_t)%s), %s);' % (a, b, path))
        elif k == 'struct':
            L.append('rt_cmp_%s_%s(r, &%s, &%s);' % (t.name, mode, a, b))
        elif k == 'union':
            if m.selector:
                L.append('rt_cmp_%s_%s_tag(r, &%s, &%s, (uint32_t)%s%s);' % (t.name, mode, a, b, pa, m.selector))
            else:
                L.append('rt_cmp_%s_%s_tag(r, &%s, &%s, %d);' % (t.name, mode, a, b, UNION_DEFAULT_TAG.get(t.name, 0)))
        elif k in ('fixed_string', 'fixed_bytes'):
            L.append('RT_MEM(r, %s, %s, sizeof(%s), %s);' % (a, b, a, path))
        elif k == 'fixed_array':
            n = self.m.const_value(m.dims[0])
            if cat == 'handle':
                if mode == 'in':
                    L.append('for (uint32_t i = 0; i < %d; i++) RT_EQ(r, rt_gid((uint64_t)(uintptr_t)%s[i]), rt_hid((uint64_t)(uintptr_t)%s[i]), %s);' % (n, a, b, path))
                else:
                    L.append('for (uint32_t i = 0; i < %d; i++) RT_EQ(r, (uint64_t)(uintptr_t)%s[i], rt_gid((uint64_t)(uintptr_t)%s[i]), %s);' % (n, a, b, path))
            elif self.scalar(tn):
                L.append('RT_MEM(r, %s, %s, sizeof(%s), %s);' % (a, b, a, path))
            else:
                L.append('for (uint32_t i = 0; i < %d; i++) rt_cmp_%s_%s(r, &%s[i], &%s[i]);' % (n, t.name, mode, a, b))
        elif k == 'string':
            L.append('RT_STR(r, %s, %s, %s);' % (a, b, path))
        elif k == 'string_array':
            n = self.len_expr(m, pa, members)
            L.append('if (%s && %s) {' % (a, n))
            L.append('   RT_TRUE(r, %s != NULL, %s);' % (b, path))
            L.append('   if (%s) for (uint32_t i = 0; i < %s; i++) RT_STR(r, %s[i], %s[i], %s);' % (b, n, a, b, path))
            L.append('} else {')
            L.append('   RT_TRUE(r, %s == NULL, %s);' % (b, path))
            L.append('}')
        elif k in ('allocator', 'host_pointer'):
            L.append('RT_TRUE(r, %s == NULL, %s);' % (b, path))
        elif k == 'blob':
            n = self.len_expr(m, pa, members)
            L.append('if (%s && %s) {' % (a, n))
            L.append('   RT_TRUE(r, %s != NULL, %s);' % (b, path))
            L.append('   if (%s) RT_MEM(r, %s, %s, %s, %s);' % (b, a, b, n, path))
            L.append('} else {')
            L.append('   RT_TRUE(r, %s == NULL || !%s, %s);' % (b, n, path))
            L.append('}')
        elif k == 'pointer':
            L.append('if (%s) {' % a)
            L.append('   RT_TRUE(r, %s != NULL, %s);' % (b, path))
            L.append('   if (%s) {' % b)
            if cat == 'handle':
                if mode == 'in':
                    L.append('      RT_EQ(r, rt_gid((uint64_t)(uintptr_t)*%s), rt_hid((uint64_t)(uintptr_t)*%s), %s);' % (a, b, path))
                else:
                    L.append('      RT_EQ(r, (uint64_t)(uintptr_t)*%s, rt_gid((uint64_t)(uintptr_t)*%s), %s);' % (a, b, path))
            elif self.scalar(tn):
                L.append('      RT_MEM(r, %s, %s, sizeof(*%s), %s);' % (a, b, a, path))
            else:
                L.append('      rt_cmp_%s_%s(r, %s, %s);' % (t.name, mode, a, b))
            L.append('   }')
            if mode == 'in':
                L.append('} else {')
                L.append('   RT_TRUE(r, %s == NULL, %s);' % (b, path))
            L.append('}')
        elif k == 'array':
            n = self.len_expr(m, pa, members)
            L.append('if (%s && %s) {' % (a, n))
            L.append('   RT_TRUE(r, %s != NULL, %s);' % (b, path))
            L.append('   if (%s) {' % b)
            L.append('      for (uint32_t i = 0; i < %s; i++) {' % n)
            if cat == 'handle':
                if mode == 'in':
                    L.append('         RT_EQ(r, rt_gid((uint64_t)(uintptr_t)%s[i]), rt_hid((uint64_t)(uintptr_t)%s[i]), %s);' % (a, b, path))
                else:
                    L.append('         RT_EQ(r, (uint64_t)(uintptr_t)%s[i], rt_gid((uint64_t)(uintptr_t)%s[i]), %s);' % (a, b, path))
            elif self.scalar(tn):
                L.append('         RT_MEM(r, &%s[i], &%s[i], sizeof(%s[i]), %s);' % (a, b, a, path))
            else:
                L.append('         rt_cmp_%s_%s(r, &%s[i], &%s[i]);' % (t.name, mode, a, b))
            L.append('      }')
            L.append('   }')
            if mode == 'in':
                L.append('} else {')
                L.append('   RT_TRUE(r, %s == NULL, %s);' % (b, path))
            L.append('}')
        elif k == 'pointer_array':
            L.append('RT_TRUE(r, %s == NULL, %s);' % (b, path))
        elif k == 'nested_array':
            n = self.len_expr(m, pa, members)
            inner = self.inner_len_expr(m, pa, 'i')
            L.append('if (%s && %s) {' % (a, n))
            L.append('   RT_TRUE(r, %s != NULL, %s);' % (b, path))
            L.append('   for (uint32_t i = 0; %s && i < %s; i++) {' % (b, n))
            L.append('      if (!%s) { RT_TRUE(r, %s[i] == NULL, %s); continue; }' % (inner, b, path))
            L.append('      RT_TRUE(r, %s[i] != NULL, %s);' % (b, path))
            L.append('      for (uint32_t j = 0; %s[i] && j < %s; j++)' % (b, inner))
            if self.scalar(tn):
                L.append('         RT_MEM(r, &%s[i][j], &%s[i][j], sizeof(%s[i][j]), %s);' % (a, b, a, path))
            else:
                L.append('         rt_cmp_%s_in(r, &%s[i][j], &%s[i][j]);' % (t.name, a, b))
            L.append('   }')
            L.append('}')
        elif k == 'chain':
            pass
        return L

    def emit_cmp(self, ty):
        n = ty.name
        out = []
        if ty.category == 'union':
            for mode in ('in', 'out'):
                out.append('static void\nrt_cmp_%s_%s_tag(struct rt *r, const %s *a, const %s *b, uint32_t tag)\n{'
                           % (n, mode, n, n))
                out.append('   switch (tag) {')
                for i, mm in enumerate(ty.members):
                    out.append('   case %s:' % self.union_tag(ty, i, mm))
                    for l in self.cmp_item(mm, 'a->' + mm.name, 'b->' + mm.name, ty.members, 'a->', 'b->', mode):
                        out.append('      ' + l)
                    out.append('      break;')
                out.append('   default: break;\n   }\n}\n')
            out.append('static void\nrt_skelcmp_%s(struct rt *r, const %s *a, const %s *b)\n{ (void)r; (void)a; (void)b; }\n' % (n, n, n))
            for mode in ('in', 'out'):
                out.append('static void\nrt_cmp_%s_%s(struct rt *r, const %s *a, const %s *b)\n{' % (n, mode, n, n))
                out.append('   rt_cmp_%s_%s_tag(r, a, b, %d);\n}\n' % (n, mode, UNION_DEFAULT_TAG.get(n, 0)))
            return out
        members = self.self_members(ty) if ty.stype else ty.members
        for mode in ('in', 'out', 'skel'):
            fname = 'rt_skelcmp_%s' % n if mode == 'skel' else 'rt_cmp_%s_%s' % (n, mode)
            out.append('static void\n%s(struct rt *r, const %s *a, const %s *b)\n{' % (fname, n, n))
            out.append('   (void)r; (void)a; (void)b;')
            if ty.stype:
                if mode in ('in', 'skel'):
                    out.append('   RT_EQ(r, a->sType, b->sType, "sType");')
                    out.append('   rt_chaincmp_%s_%s(r, a->pNext, b->pNext);' % (n, mode))
                else:
                    out.append('   rt_chaincmp_%s_out(r, a->pNext, b->pNext);' % n)
            for mm in members:
                for l in self.cmp_item(mm, 'a->' + mm.name, 'b->' + mm.name, ty.members, 'a->', 'b->', mode):
                    out.append('   ' + l)
            out.append('}\n')
            if ty.stype:
                # self-only compare for chain links
                out.append('static void\n%s_self(struct rt *r, const %s *a, const %s *b)\n{' % (fname, n, n))
                out.append('   (void)r; (void)a; (void)b;')
                for mm in members:
                    for l in self.cmp_item(mm, 'a->' + mm.name, 'b->' + mm.name, ty.members, 'a->', 'b->', mode):
                        out.append('   ' + l)
                out.append('}\n')
        if ty.stype:
            chain = self.chain(ty)
            for mode in ('in', 'out', 'skel'):
                out.append('static void\nrt_chaincmp_%s_%s(struct rt *r, const void *pa, const void *pb)\n{' % (n, mode))
                out.append('   const VkBaseInStructure *a = pa, *b = pb;')
                if mode == 'out':
                    # host-filled links (a) must all appear in the driver's chain (b)
                    out.append('   for (; a; a = a->pNext) {')
                    out.append('      const VkBaseInStructure *f = b;')
                    out.append('      while (f && f->sType != a->sType) f = f->pNext;')
                    out.append('      RT_TRUE(r, f != NULL, "reply chain link");')
                    out.append('      if (!f) continue;')
                    out.append('      switch ((int32_t)a->sType) {')
                    for c in chain:
                        out.append('      case %s: rt_cmp_%s_out_self(r, (const void *)a, (const void *)f); break;' % (c.stype, c.name))
                    out.append('      default: break;')
                    out.append('      }')
                    out.append('   }')
                else:
                    fn = 'rt_skelcmp_%s_self' if mode == 'skel' else 'rt_cmp_%s_in_self'
                    out.append('   for (; a; a = a->pNext, b = b ? b->pNext : NULL) {')
                    out.append('      RT_TRUE(r, b != NULL, "chain length");')
                    out.append('      if (!b) return;')
                    out.append('      RT_EQ(r, a->sType, b->sType, "chain sType");')
                    out.append('      if (a->sType != b->sType) return;')
                    out.append('      switch ((int32_t)a->sType) {')
                    for c in chain:
                        out.append('      case %s: %s(r, (const void *)a, (const void *)b); break;' % (c.stype, fn % c.name))
                    out.append('      default: break;')
                    out.append('      }')
                    out.append('   }')
                    out.append('   RT_TRUE(r, b == NULL, "chain length");')
                out.append('}\n')
        return out

    # ------------------------------------------------------ commands
    def emit_cmd_test(self, cmd):
        out = []
        n = cmd.name
        params = cmd.params
        ctl = self.controls(params)
        out.append('static void\nrt_cmd_%s(struct rt *r)\n{' % n)
        decls = []
        for p in params:
            decl = p.decl
            # mutable locals for filling
            if p.dims:
                decls.append('   %s %s[%s];' % (p.type, p.name, p.dims[0]))
            elif p.ptr == 0:
                decls.append('   %s %s;' % (p.type, p.name))
            else:
                decls.append('   %s;' % decl)
        out += decls
        for p in params:
            if p.is_output:
                lines = self.fill_out_skeleton(p, p.name, params, '', 0)
            else:
                lines = self.fill_value(p, p.name, params, '', 0, ctl)
            out += ['   ' + l for l in lines]
        args = ', '.join(p.name for p in params)
        sep = ', ' if params else ''
        out.append('   struct vp_encoder enc;')
        out.append('   vp_encoder_init_dynamic(&enc, 256);')
        out.append('   vp_encode_%s(&enc, VK_COMMAND_GENERATE_REPLY_BIT_EXT%s%s);' % (n, sep, args))
        out.append('   rt_corpus(r, enc.base, vp_encoder_size(&enc));')
        out.append('   RT_TRUE(r, !vp_encoder_is_fatal(&enc), "encode");')
        out.append('   RT_EQ(r, vp_encoder_size(&enc), vp_sizeof_%s(%s), "sizeof");' % (n, args))
        out.append('   struct vp_decoder dec;')
        out.append('   rt_host_decoder(r, &dec, enc.base, vp_encoder_size(&enc));')
        out.append('   RT_EQ(r, vp_decode_u32(&dec), %s, "type");' % cmd.enum_name)
        out.append('   RT_EQ(r, vp_decode_u32(&dec), VK_COMMAND_GENERATE_REPLY_BIT_EXT, "flags");')
        out.append('   struct vp_command_%s args;' % n)
        out.append('   memset(&args, 0, sizeof(args));')
        out.append('   vp_decode_%s_args_temp(&dec, &args);' % n)
        out.append('   RT_TRUE(r, !vp_decoder_is_fatal(&dec), dec.error ? dec.error : "decode");')
        out.append('   RT_EQ(r, vp_decoder_remaining(&dec), 0, "trailing bytes");')
        out.append('   if (vp_decoder_is_fatal(&dec)) { vp_encoder_fini(&enc); return; }')
        for p in params:
            if p.is_output:
                lines = self.cmp_item(p, p.name, 'args.' + p.name, params, '', 'args.', 'skel') \
                    if p.kind != 'pointer' or not self.rt(p.type) or self.rt(p.type).category != 'struct' \
                    else ['if (%s) rt_skelcmp_%s(r, %s, args.%s);' % (p.name, self.rt(p.type).name, p.name, p.name)]
                if p.kind == 'pointer' and self.cat(p) == 'handle':
                    lines = ['RT_EQ(r, rt_gid((uint64_t)(uintptr_t)*%s), (uint64_t)(uintptr_t)*args.%s, "new id");' % (p.name, p.name)]
                if p.kind == 'array' and self.cat(p) == 'handle':
                    nn = self.len_expr(p, '', params)
                    lines = ['for (uint32_t i = 0; i < %s; i++) RT_EQ(r, rt_gid((uint64_t)(uintptr_t)%s[i]), (uint64_t)(uintptr_t)args.%s[i], "new ids");' % (nn, p.name, p.name)]
                if p.kind == 'pointer' and self.scalar(p.type) and p.count_for:
                    lines = ['RT_EQ(r, *%s, *args.%s, "count");' % (p.name, p.name)]
                if p.kind == 'blob' and p.inplace:
                    # no storage: the handler places it (here: as the
                    # renderer's would, but beside the reply, not in it)
                    nn = self.len_expr(p, 'args.', params)
                    lines = ['RT_TRUE(r, args.%s == NULL, "in-place output");' % p.name,
                             'if (%s) args.%s = rt_alloc(r, %s);' % (nn, p.name, nn)]
            else:
                lines = self.cmp_item(p, p.name, 'args.' + p.name, params, '', 'args.', 'in')
            out += ['   ' + l for l in lines]
        # reply
        out.append('   /* the host fills the outputs, the reply goes back */')
        for p in cmd.outputs():
            t = self.rt(p.type)
            x = 'args.' + p.name
            if p.kind == 'pointer':
                if self.cat(p) == 'handle' or (self.scalar(p.type) and p.count_for):
                    continue
                if self.scalar(p.type):
                    out.append('   if (%s) rt_bytes(r, %s, sizeof(*%s));' % (x, x, x))
                else:
                    out.append('   if (%s) rt_outfill_%s(r, %s);' % (x, t.name, x))
            elif p.kind == 'array':
                nn = self.len_expr(p, 'args.', params)
                if self.cat(p) == 'handle':
                    continue
                if self.scalar(p.type):
                    out.append('   if (%s) rt_bytes(r, %s, sizeof(%s[0]) * %s);' % (x, x, x, nn))
                else:
                    out.append('   if (%s) for (uint32_t i = 0; i < %s; i++) rt_outfill_%s(r, &%s[i]);' % (x, nn, t.name, x))
            elif p.kind == 'blob':
                nn = self.len_expr(p, 'args.', params)
                out.append('   if (%s) rt_bytes(r, %s, %s);' % (x, x, nn))
        if cmd.ret != 'void':
            out.append('   rt_bytes(r, &args.ret, sizeof(args.ret));')
            if cmd.ret == 'VkResult':
                out.append('   args.ret = (rt_u32(r) & 1) ? VK_SUCCESS : VK_INCOMPLETE;')
        out.append('   struct vp_encoder renc;')
        out.append('   vp_encoder_init_dynamic(&renc, 256);')
        out.append('   renc.raw_handles = true;')
        out.append('   vp_encode_%s_reply(&renc, &args);' % n)
        out.append('   RT_TRUE(r, !vp_encoder_is_fatal(&renc), "reply encode");')
        out.append('   RT_EQ(r, vp_encoder_size(&renc), vp_sizeof_%s_reply(%s), "reply sizeof");' % (n, args))
        out.append('   struct vp_decoder rdec;')
        out.append('   rt_guest_decoder(r, &rdec, renc.base, vp_encoder_size(&renc));')
        if cmd.ret != 'void':
            out.append('   %s ret = vp_decode_%s_reply(&rdec%s%s);' % (cmd.ret, n, sep, args))
            out.append('   RT_MEM(r, &ret, &args.ret, sizeof(ret), "ret");')
        else:
            out.append('   vp_decode_%s_reply(&rdec%s%s);' % (n, sep, args))
        out.append('   RT_TRUE(r, !vp_decoder_is_fatal(&rdec), rdec.error ? rdec.error : "reply decode");')
        out.append('   RT_EQ(r, vp_decoder_remaining(&rdec), 0, "reply trailing bytes");')
        for p in cmd.outputs():
            if p.kind == 'pointer' and self.cat(p) == 'handle':
                out.append('   RT_EQ(r, (uint64_t)(uintptr_t)*args.%s, rt_gid((uint64_t)(uintptr_t)*%s), "reply id");' % (p.name, p.name))
                continue
            lines = self.cmp_item(p, 'args.' + p.name, p.name, params, 'args.', '', 'out')
            out += ['   ' + l for l in lines]
        out.append('   vp_encoder_fini(&renc);')
        out.append('   vp_encoder_fini(&enc);')
        out.append('}\n')
        return out

    def emit_roundtrip(self):
        out = [BANNER % (self.m.api_minor, self.m.header_version), '#include "roundtrip.h"', '']
        for ty in self.structs:
            n = ty.name
            if ty.category == 'union':
                out.append('static void rt_fill_%s_tag(struct rt *r, %s *val, uint32_t tag, int depth);' % (n, n))
                out.append('static uint32_t rt_fill_%s_any(struct rt *r, %s *val, int depth);' % (n, n))
                out.append('static void rt_fill_%s(struct rt *r, %s *val, int depth);' % (n, n))
                for mode in ('in', 'out'):
                    out.append('static void rt_cmp_%s_%s(struct rt *r, const %s *a, const %s *b);' % (n, mode, n, n))
                    out.append('static void rt_cmp_%s_%s_tag(struct rt *r, const %s *a, const %s *b, uint32_t tag);' % (n, mode, n, n))
            else:
                out.append('static void rt_fill_%s(struct rt *r, %s *val, int depth);' % (n, n))
                for mode in ('in', 'out'):
                    out.append('static void rt_cmp_%s_%s(struct rt *r, const %s *a, const %s *b);' % (n, mode, n, n))
                if ty.stype:
                    out.append('static void rt_fill_%s_self(struct rt *r, %s *val, int depth);' % (n, n))
                    out.append('static void *rt_chain_%s(struct rt *r, int depth, bool output);' % n)
                    out.append('static void rt_outfill_%s_self(struct rt *r, %s *val);' % (n, n))
                    for mode in ('in', 'out', 'skel'):
                        out.append('static void rt_chaincmp_%s_%s(struct rt *r, const void *a, const void *b);' % (n, mode))
                    out.append('static void rt_cmp_%s_in_self(struct rt *r, const %s *a, const %s *b);' % (n, n, n))
                    out.append('static void rt_cmp_%s_out_self(struct rt *r, const %s *a, const %s *b);' % (n, n, n))
                    out.append('static void rt_skelcmp_%s_self(struct rt *r, const %s *a, const %s *b);' % (n, n, n))
            out.append('static void rt_skel_%s(struct rt *r, %s *val, int depth);' % (n, n))
            out.append('static void rt_outfill_%s(struct rt *r, %s *val);' % (n, n))
            out.append('static void rt_skelcmp_%s(struct rt *r, const %s *a, const %s *b);' % (n, n, n))
        out.append('')
        for ty in self.structs:
            out += self.emit_fill(ty)
            out += self.emit_skel(ty)
            out += self.emit_outfill(ty)
            out += self.emit_cmp(ty)
        for cmd in self.commands:
            out += self.emit_cmd_test(cmd)
        out.append('const struct rt_command rt_commands[] = {')
        for cmd in self.commands:
            out.append('   { "%s", rt_cmd_%s },' % (cmd.name, cmd.name))
        out.append('};')
        out.append('const unsigned rt_command_count = %d;' % len(self.commands))
        return '\n'.join(out) + '\n'

    def emit_stub_handlers(self):
        """A handler table whose every slot does nothing (fuzzing, benchmarks)."""
        out = [BANNER % (self.m.api_minor, self.m.header_version), '#include "vp_protocol.h"', '']
        for cmd in self.commands:
            out.append('static void\nstub_%s(struct vp_dispatch *d, struct vp_command_%s *args)\n{' % (cmd.name, cmd.name))
            out.append('   (void)d;')
            out.append('   (void)args;')
            out.append('}\n')
        out.append('void\nvp_stub_handlers_init(struct vp_handlers *h)\n{')
        for cmd in self.commands:
            out.append('   h->%s = stub_%s;' % (cmd.name, cmd.name))
        out.append('}')
        return '\n'.join(out) + '\n'
