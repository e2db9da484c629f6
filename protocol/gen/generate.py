#!/usr/bin/env python3
"""Entry point: python3 generate.py VK_XML PROTO_DIR OUT_DIR [file ...]"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import model  # noqa: E402
import emit_protocol  # noqa: E402

OUTPUTS = {
    'vp_protocol.h': 'emit_header',
    'vp_encode_gen.c': 'emit_encode_c',
    'vp_decode_gen.c': 'emit_decode_c',
    'vp_reply_gen.c': 'emit_reply_c',
    'vp_dispatch_gen.c': 'emit_dispatch_c',
    'vp_info_gen.c': 'emit_info_c',
}


def main():
    vk_xml, proto_dir, out_dir = sys.argv[1:4]
    wanted = sys.argv[4:] or list(OUTPUTS)
    m = model.Model(vk_xml, proto_dir)
    emitters = {'protocol': emit_protocol.Emitter(m)}
    extra = {}
    try:
        import emit_renderer
        emitters['renderer'] = emit_renderer.Emitter(m, proto_dir)
        extra.update(emit_renderer.OUTPUTS)
    except ImportError:
        pass
    try:
        import emit_driver
        emitters['driver'] = emit_driver.Emitter(m, proto_dir)
        extra.update(emit_driver.OUTPUTS)
    except ImportError:
        pass
    try:
        import emit_tests
        emitters['tests'] = emit_tests.Emitter(m)
        extra.update(emit_tests.OUTPUTS)
    except ImportError:
        pass
    wanted = [os.path.basename(w) for w in wanted]
    for name in wanted:
        if name in OUTPUTS:
            text = getattr(emitters['protocol'], OUTPUTS[name])()
        else:
            who, method = extra[name]
            text = getattr(emitters[who], method)()
        path = os.path.join(out_dir, name)
        with open(path + '.tmp', 'w') as f:
            f.write(text)
        os.replace(path + '.tmp', path)


if __name__ == '__main__':
    main()
