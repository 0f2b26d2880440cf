from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'module.tf.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_header = resolve('header')
    l_0_blocks = resolve('blocks')
    l_0_body = missing
    try:
        t_1 = environment.tests['defined']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No test named 'defined' found.")
    pass
    def macro(l_1_items, l_1_indent):
        t_2 = []
        if l_1_items is missing:
            l_1_items = undefined("parameter 'items' was not provided", name='items')
        if l_1_indent is missing:
            l_1_indent = undefined("parameter 'indent' was not provided", name='indent')
        pass
        for l_2_item in l_1_items:
            _loop_vars = {}
            pass
            if environment.getattr(l_2_item, 'blank_before'):
                pass
                t_2.append(
                    '\n',
                )
            for l_3_line in environment.getattr(l_2_item, 'comment'):
                _loop_vars = {}
                pass
                t_2.extend((
                    str(l_1_indent),
                    '# ',
                    str(l_3_line),
                    '\n',
                ))
            l_3_line = missing
            if t_1(environment.getattr(l_2_item, 'items')):
                pass
                if environment.getattr(l_2_item, 'items'):
                    pass
                    t_2.extend((
                        str(l_1_indent),
                        str(environment.getattr(l_2_item, 'header')),
                        ' {\n',
                        str(context.call((undefined(name='body') if l_0_body is missing else l_0_body), environment.getattr(l_2_item, 'items'), str_join((l_1_indent, '  ', )), _loop_vars=_loop_vars)),
                        str(l_1_indent),
                        '}\n',
                    ))
                else:
                    pass
                    t_2.extend((
                        str(l_1_indent),
                        str(environment.getattr(l_2_item, 'header')),
                        ' {}\n',
                    ))
            else:
                pass
                t_2.extend((
                    str(l_1_indent),
                    str(environment.getattr(l_2_item, 'key')),
                    str(environment.getattr(l_2_item, 'pad')),
                    ' = ',
                    str(environment.getattr(l_2_item, 'value')),
                    '\n',
                ))
        l_2_item = missing
        return concat(t_2)
    context.exported_vars.add('body')
    context.vars['body'] = l_0_body = Macro(environment, macro, 'body', ('items', 'indent'), False, False, False, context.eval_ctx.autoescape)
    yield '# '
    yield str((undefined(name='header') if l_0_header is missing else l_0_header))
    yield '\n'
    for l_1_block in (undefined(name='blocks') if l_0_blocks is missing else l_0_blocks):
        _loop_vars = {}
        pass
        yield '\n'
        yield str(context.call((undefined(name='body') if l_0_body is missing else l_0_body), [l_1_block], '', _loop_vars=_loop_vars))
    l_1_block = missing

blocks = {}
debug_info = '3=20&4=27&5=30&7=35&9=45&10=47&11=50&12=53&14=60&17=67&21=79&22=81&23=85'