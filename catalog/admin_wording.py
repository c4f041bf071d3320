"""Django's own admin sentences, worded again for the shop's Spanish.

Django's Spanish gives every model a masculine article and ends in "/s" ("El categoría “Faldas”
fue agregado correctamente", "El%(name)s …" without its space, "Eliminar … seleccionado/s"). A
translation in the project's locale wins over Django's for the same sentence, but makemessages
keeps only the sentences it finds in the project's code: they are named here, and nothing reads
this module at run time. Their Spanish, in locale/es, names the model in brackets instead.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

DJANGO_ADMIN_SENTENCES = (
    gettext_noop("The {name} “{obj}” was added successfully."),
    gettext_noop("The {name} “{obj}” was added successfully. You may add another {name} below."),
    gettext_noop("The {name} “{obj}” was added successfully. You may edit it again below."),
    gettext_noop("The {name} “{obj}” was changed successfully."),
    gettext_noop("The {name} “{obj}” was changed successfully. You may edit it again below."),
    gettext_noop("The {name} “{obj}” was changed successfully. You may add another {name} below."),
    gettext_noop("The %(name)s “%(obj)s” was deleted successfully."),
    gettext_noop("Delete selected %(verbose_name_plural)s"),
    gettext_noop("Successfully deleted %(count)d %(items)s."),
    gettext_noop("%(model_name)s with this %(field_label)s already exists."),
    gettext_noop(
        'Are you sure you want to delete the %(object_name)s "%(escaped_object)s"? All of the '
        "following related items will be deleted:"
    ),
    gettext_noop(
        "Are you sure you want to delete the selected %(objects_name)s? All of the following "
        "objects and their related items will be deleted:"
    ),
    gettext_noop("Yes, I’m sure"),
    ngettext_lazy(
        "%(count)s %(name)s was changed successfully.",
        "%(count)s %(name)s were changed successfully.",
        "count",
    ),
)
